using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.Tests;

/// <summary>A logger that keeps every record in memory, so tests can check what a store logged.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<RecordedLog> _records = new();

    /// <summary>The records written so far, oldest first.</summary>
    public IReadOnlyList<RecordedLog> Records => _records.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _records.Enqueue(new RecordedLog(logLevel, eventId, formatter(state, exception)));

    /// <summary>Waits until a record with <paramref name="eventId"/> appears, or fails after <paramref name="timeout"/>.</summary>
    public async Task WaitForEventAsync(int eventId, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        while (!_records.Any(record => record.EventId.Id == eventId))
        {
            await Task.Delay(10, cancellation.Token);
        }
    }
}

/// <summary>One log record.</summary>
public sealed record RecordedLog(LogLevel Level, EventId EventId, string Message);
