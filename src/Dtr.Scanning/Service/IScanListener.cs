using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Scanning.Service;

/// <summary>Receives a call from <see cref="ScanWorker"/> each time a scan job ends with a stored result, failed scans included.</summary>
internal interface IScanListener
{
    /// <summary>
    /// Called after the result of <paramref name="manifest"/> was stored. It must return at once, without I/O,
    /// because the worker's job slot waits for it; an exception is logged and ignored.
    /// </summary>
    void ScanEnded(RepositoryName repository, Digest manifest);
}
