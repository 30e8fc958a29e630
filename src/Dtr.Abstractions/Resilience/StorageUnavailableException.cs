using Polly;

namespace Dtr.Resilience;

/// <summary>
/// Thrown by a storage resilience pipeline when a call still failed with a transient fault after its last retry.
/// The registry responds to such requests with 503, so clients retry later instead of treating the failure as final.
/// </summary>
/// <remarks>
/// It derives from Polly's <see cref="ExecutionRejectedException"/>, like the pipeline's timeout and open-circuit
/// errors, so one <c>catch</c> covers every way the pipeline gives up. The last fault is the inner exception.
/// </remarks>
public sealed class StorageUnavailableException : ExecutionRejectedException
{
    /// <summary>Creates the exception for a component's last transient fault.</summary>
    public StorageUnavailableException(string component, Exception lastFault)
        : base($"The {component} service failed with a transient fault on every attempt: {lastFault.Message}", lastFault)
    {
        Component = component;
    }

    /// <summary>The component whose calls failed, such as <c>s3</c> or <c>postgresql</c>.</summary>
    public string Component { get; }
}
