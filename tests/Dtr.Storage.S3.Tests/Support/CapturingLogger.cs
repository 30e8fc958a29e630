using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.S3.Tests.Support;

/// <summary>A logger that keeps every entry in memory, so tests can check what was logged.</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>Every entry, oldest first.</summary>
    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    /// <summary>Returns the entries with the given event id.</summary>
    public IReadOnlyList<LogEntry> WithEventId(int eventId) => Entries.Where(entry => entry.EventId == eventId).ToList();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue(new LogEntry(logLevel, eventId.Id, formatter(state, exception), exception));
}

/// <summary>One captured log entry.</summary>
public sealed record LogEntry(LogLevel Level, int EventId, string Message, Exception? Exception);

/// <summary>Hands one <see cref="CapturingLogger"/> to every category, so a test sees a whole host's log.</summary>
public sealed class CapturingLoggerProvider(CapturingLogger logger) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
