using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace Dtr.Benchmarks.GarbageCollection;

/// <summary>Memory figures of this process over one measured span, in bytes.</summary>
/// <param name="BaselineWorkingSet">Resident set size at the start, after a full compacting collection.</param>
/// <param name="PeakWorkingSet">Highest resident set size: the kernel's VmHWM when it could be reset at the start, else the highest sample.</param>
/// <param name="PeakWorkingSetSource">Where <paramref name="PeakWorkingSet"/> came from.</param>
/// <param name="BaselineGcHeap">Bytes in use on the GC heap at the start, after the collection.</param>
/// <param name="PeakGcHeap">Highest sampled bytes in use on the GC heap (<see cref="GC.GetTotalMemory(bool)"/>).</param>
/// <param name="PeakGcCommitted">Highest sampled memory committed by the GC (<see cref="GCMemoryInfo.TotalCommittedBytes"/>).</param>
/// <param name="Allocated">Bytes allocated on the GC heap during the span, by every thread.</param>
/// <param name="Collections">Collections of generation 0, 1 and 2 during the span.</param>
internal sealed record MemoryFigures(
    long BaselineWorkingSet,
    long PeakWorkingSet,
    string PeakWorkingSetSource,
    long BaselineGcHeap,
    long PeakGcHeap,
    long PeakGcCommitted,
    long Allocated,
    (int Gen0, int Gen1, int Gen2) Collections);

/// <summary>
/// Samples this process's resident set size and GC heap on a background thread while a measured span runs.
/// </summary>
/// <remarks>
/// On Linux the kernel tracks the peak resident set size (VmHWM in <c>/proc/self/status</c>) between samples too.
/// Writing 5 to <c>/proc/self/clear_refs</c> resets it to the current size (Linux 4.0 and later), so the peak
/// after <see cref="Stop"/> belongs to the span and not to the seeding before it. When the reset is not allowed, the
/// highest sample is reported instead, which can miss a spike shorter than the interval.
/// </remarks>
internal sealed class MemorySampler
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly long _baselineWorkingSet;
    private readonly long _baselineGcHeap;
    private readonly long _allocatedAtStart;
    private readonly (int, int, int) _collectionsAtStart;
    private readonly bool _peakReset;
    private long _peakWorkingSet;
    private long _peakGcHeap;
    private long _peakGcCommitted;

    private MemorySampler()
    {
        // Leave nothing of the earlier work in the baseline that a collection could free.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

        _baselineWorkingSet = ReadWorkingSet();
        _baselineGcHeap = GC.GetTotalMemory(forceFullCollection: false);
        _peakWorkingSet = _baselineWorkingSet;
        _peakGcHeap = _baselineGcHeap;
        _peakGcCommitted = GC.GetGCMemoryInfo().TotalCommittedBytes;
        _peakReset = TryResetPeakWorkingSet();
        _allocatedAtStart = GC.GetTotalAllocatedBytes(precise: true);
        _collectionsAtStart = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        _thread = new Thread(SampleUntilStopped) { IsBackground = true, Name = "memory sampler", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Runs a full compacting collection, takes the baseline and starts sampling.</summary>
    public static MemorySampler Start() => new();

    /// <summary>Stops sampling and returns the figures of the span.</summary>
    public MemoryFigures Stop()
    {
        _stop.Set();
        _thread.Join();
        Sample();

        var peakWorkingSet = _peakWorkingSet;
        var source = "highest sample every 10 ms";
        if (_peakReset && ReadStatusKib("VmHWM:") is { } hwmKib)
        {
            peakWorkingSet = Math.Max(peakWorkingSet, hwmKib * 1024);
            source = "kernel VmHWM, reset at the baseline";
        }

        return new MemoryFigures(
            _baselineWorkingSet,
            peakWorkingSet,
            source,
            _baselineGcHeap,
            _peakGcHeap,
            _peakGcCommitted,
            GC.GetTotalAllocatedBytes(precise: true) - _allocatedAtStart,
            (GC.CollectionCount(0) - _collectionsAtStart.Item1, GC.CollectionCount(1) - _collectionsAtStart.Item2, GC.CollectionCount(2) - _collectionsAtStart.Item3));
    }

    private void SampleUntilStopped()
    {
        while (!_stop.Wait(Interval))
        {
            Sample();
        }
    }

    private void Sample()
    {
        _peakWorkingSet = Math.Max(_peakWorkingSet, ReadWorkingSet());
        _peakGcHeap = Math.Max(_peakGcHeap, GC.GetTotalMemory(forceFullCollection: false));
        _peakGcCommitted = Math.Max(_peakGcCommitted, GC.GetGCMemoryInfo().TotalCommittedBytes);
    }

    private static long ReadWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static bool TryResetPeakWorkingSet()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"Resetting the peak resident set size through /proc/self/clear_refs failed ({error.Message}); the peak is sampled every {Interval.TotalMilliseconds} ms instead.");
            return false;
        }
    }

    private static long? ReadStatusKib(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(line => line.StartsWith(field, StringComparison.Ordinal));
            var value = line?[field.Length..].Trim().Split(' ')[0];
            return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib) ? kib : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
