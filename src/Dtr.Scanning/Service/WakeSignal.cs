namespace Dtr.Scanning.Service;

/// <summary>
/// Wakes a background loop at once when something happens in this process, and otherwise after a poll interval.
/// Signals set while the loop is busy are kept until its next wait, and several of them wake it once.
/// </summary>
internal sealed class WakeSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes the waiting loop, or the next wait when none is waiting.</summary>
    public void Set()
    {
        lock (_lock)
        {
            _signal.TrySetResult();
        }
    }

    /// <summary>Waits until <see cref="Set"/> is called or <paramref name="timeout"/> passes, then resets the signal.</summary>
    /// <returns>True when the signal was set.</returns>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_lock)
        {
            signal = _signal.Task;
        }

        using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(timeout, time, delay.Token);
        var first = await Task.WhenAny(signal, timer);
        await delay.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();

        lock (_lock)
        {
            if (_signal.Task.IsCompleted)
            {
                _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        return first == signal;
    }
}
