using System.Threading.Channels;
using Dtr.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Audit;

/// <summary>
/// Queues audit entries for <see cref="AuditWriter"/>, which stores them in batches. Recording only tries to write to
/// a bounded channel, so it does not wait for the store. When the queue is full, or after shutdown has begun, the
/// entry is dropped, counted and logged, so a slow store cannot slow requests.
/// </summary>
internal sealed class AuditLog
{
    /// <summary>The maximum number of queued entries. Entries recorded while the queue is full are dropped.</summary>
    public const int QueueCapacity = 10_000;

    private readonly Channel<AuditEntry> _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(QueueCapacity)
    {
        // With Wait, TryWrite returns false on a full queue, so drops can be counted. DropWrite would report success.
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private long _dropped;

    public AuditLog(TimeProvider time, ILogger<AuditLog> logger)
    {
        _time = time;
        _logger = logger;
    }

    /// <summary>The number of entries dropped because the queue was full, since the host started.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    internal ChannelReader<AuditEntry> Reader => _queue.Reader;

    /// <summary>Queues an entry for the request, with the current time and the client's address.</summary>
    public void Record(HttpContext context, string? actor, string? repository, string action, int status, string? detail)
    {
        var entry = new AuditEntry(
            _time.GetUtcNow(),
            Truncate(actor, AuditEntry.MaxFieldLength),
            context.Connection.RemoteIpAddress?.ToString(),
            Truncate(repository, AuditEntry.MaxFieldLength),
            Truncate(action, AuditEntry.MaxFieldLength)!,
            ResultOf(status),
            status,
            Truncate(detail, AuditEntry.MaxDetailLength));
        if (!_queue.Writer.TryWrite(entry))
        {
            var dropped = Interlocked.Increment(ref _dropped);
            // Log the first drop and then every thousandth, so a full queue does not flood the log.
            if (dropped == 1 || dropped % 1000 == 0)
            {
                AuditLogMessages.EntriesDropped(_logger, dropped, QueueCapacity);
            }
        }
    }

    /// <summary>Ends the queue, so that the writer stores what is left and stops.</summary>
    internal void Complete() => _queue.Writer.TryComplete();

    /// <summary>Returns the result of a response status: below 400 succeeded, 401 and 403 denied, others failed.</summary>
    public static AuditResult ResultOf(int status) => status switch
    {
        < 400 => AuditResult.Succeeded,
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => AuditResult.Denied,
        _ => AuditResult.Failed,
    };

    private static string? Truncate(string? value, int maxLength) =>
        value is null || value.Length <= maxLength ? value : value[..maxLength];
}
