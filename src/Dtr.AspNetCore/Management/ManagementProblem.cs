using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// A failure of a management request, turned into an RFC 7807 problem details response by
/// <see cref="ManagementRequestFilter"/>. Handlers throw it so that every early exit produces the same body shape.
/// </summary>
internal sealed class ManagementProblem : Exception
{
    private ManagementProblem(int status, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
        : base(detail)
    {
        Status = status;
        Errors = errors;
    }

    // ASP.NET Core fills in the title and type of the common client errors, but not of 413.
    private string? Title { get; init; }

    private string? Type { get; init; }

    // Members added to the problem details body beside the standard ones, such as the id of a conflicting run.
    private IReadOnlyDictionary<string, object?>? Extensions { get; init; }

    /// <summary>The HTTP status code.</summary>
    public int Status { get; }

    /// <summary>For validation failures, the messages per request field, as in <c>HttpValidationProblemDetails</c>.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; }

    /// <summary>Creates a 400 for one invalid request field.</summary>
    public static ManagementProblem Invalid(string field, string message) =>
        new(StatusCodes.Status400BadRequest, message, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>Creates a 400 for several invalid request fields, each with its messages.</summary>
    public static ManagementProblem Invalid(IReadOnlyDictionary<string, string[]> errors, string detail) =>
        new(StatusCodes.Status400BadRequest, detail, errors);

    /// <summary>Creates a 400 for a request that cannot be read at all, such as malformed JSON.</summary>
    public static ManagementProblem BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    /// <summary>Creates a 503 for a request whose store calls kept failing; the client may retry it later.</summary>
    public static ManagementProblem Unavailable(string detail) => new(StatusCodes.Status503ServiceUnavailable, detail);

    /// <summary>Creates a 403 for a caller who is signed in but lacks the rights.</summary>
    public static ManagementProblem Forbidden(string detail) => new(StatusCodes.Status403Forbidden, detail);

    /// <summary>Creates a 404.</summary>
    public static ManagementProblem NotFound(string detail) => new(StatusCodes.Status404NotFound, detail);

    /// <summary>Creates a 409 for a name that is taken or a state that forbids the change.</summary>
    public static ManagementProblem Conflict(string detail) => new(StatusCodes.Status409Conflict, detail);

    /// <summary>Creates a 409 whose body also has the given members, which clients read instead of parsing the detail.</summary>
    public static ManagementProblem Conflict(string detail, IReadOnlyDictionary<string, object?> extensions) =>
        new(StatusCodes.Status409Conflict, detail) { Extensions = extensions };

    /// <summary>Creates a 413 for a request body over the size limit.</summary>
    public static ManagementProblem ContentTooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, detail)
    {
        Title = "Content Too Large",
        Type = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    };

    /// <summary>Creates a 415 for a body that is not JSON.</summary>
    public static ManagementProblem UnsupportedMediaType(string detail) => new(StatusCodes.Status415UnsupportedMediaType, detail);

    /// <summary>Returns the problem details result of this failure.</summary>
    public IResult ToResult() => Errors is null
        ? TypedResults.Problem(detail: Message, statusCode: Status, title: Title, type: Type, extensions: Extensions)
        : TypedResults.ValidationProblem(Errors, detail: Message);
}
