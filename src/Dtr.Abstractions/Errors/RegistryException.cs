namespace Dtr.Errors;

/// <summary>
/// A failure that maps to one OCI error response. The HTTP layer writes it as
/// <c>{"errors":[{"code":…,"message":…,"detail":…}]}</c> with the code's status.
/// </summary>
public sealed class RegistryException : Exception
{
    /// <summary>Creates an exception with the code's default message.</summary>
    public RegistryException(OciErrorCode error)
        : this(error, error?.Description ?? throw new ArgumentNullException(nameof(error)))
    {
    }

    /// <summary>Creates an exception with a message for the client.</summary>
    public RegistryException(OciErrorCode error, string message, object? detail = null)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
        Detail = detail;
    }

    /// <summary>Creates an exception that wraps the failure that caused it.</summary>
    public RegistryException(OciErrorCode error, string message, Exception innerException)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    /// <summary>The OCI error code and HTTP status.</summary>
    public OciErrorCode Error { get; }

    /// <summary>An optional value serialized as the error's <c>detail</c> field.</summary>
    public object? Detail { get; }

    /// <summary>Extra response headers, such as <c>Range</c> on a rejected chunk.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
