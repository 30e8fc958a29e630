using Microsoft.Extensions.Options;

namespace Dtr.Tests.Shared;

/// <summary>
/// An <see cref="IOptionsMonitor{TOptions}"/> over one options instance that a test registers beside
/// <c>Options.Create</c>. <see cref="Change"/> swaps the value and calls the listeners, as a configuration reload does.
/// </summary>
public sealed class TestOptionsMonitor<TOptions>(TOptions value) : IOptionsMonitor<TOptions>
    where TOptions : class
{
    private readonly Lock _lock = new();
    private readonly List<Action<TOptions, string?>> _listeners = [];

    public TOptions CurrentValue { get; private set; } = value;

    public TOptions Get(string? name) => CurrentValue;

    /// <summary>Replaces the value and notifies every listener.</summary>
    public void Change(TOptions value)
    {
        Action<TOptions, string?>[] listeners;
        lock (_lock)
        {
            CurrentValue = value;
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            listener(value, Options.DefaultName);
        }
    }

    public IDisposable OnChange(Action<TOptions, string?> listener)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
        }

        return new Subscription(this, listener);
    }

    private sealed class Subscription(TestOptionsMonitor<TOptions> monitor, Action<TOptions, string?> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (monitor._lock)
            {
                monitor._listeners.Remove(listener);
            }
        }
    }
}
