using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Scanning;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Repositories, their settings, team grants and tags: <c>/repositories</c>.
/// </summary>
/// <remarks>
/// A repository is addressed as <c>{namespace}/{repo}</c>, where <c>repo</c> may itself contain '/'. The explicit
/// <c>/tags</c> and <c>/teamAccess</c> routes cover a one-component <c>repo</c>; for longer names the catch-all route
/// recognizes the same suffixes. Because "teamAccess" has an uppercase letter it is never a name component, but
/// "tags" is: a GET of <c>{namespace}/{repo}/tags</c> lists tags, so a repository whose last component is "tags"
/// is read through the listing routes only. The manifest and tag suffixes of <see cref="ImageEndpoints"/> are sent
/// on to it. The scanning suffixes (<c>manifests/{digest}/scan</c>,
/// <c>manifests/{digest}/sbom</c> and <c>scanning/policy</c>) are sent on to <see cref="ScanningEndpoints"/>.
/// </remarks>
internal sealed class RepositoryEndpoints
{
    private const string TagsSuffix = "/tags";
    private const string TeamAccessSegment = "teamAccess";

    private readonly IIdentityStore _identity;
    private readonly ManagementAccess _access;
    private readonly TagDetailsReader _tags;
    private readonly ScanningEndpoints _scanning;
    private readonly ImageEndpoints _images;
    private readonly RegistryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RepositoryEndpoints> _logger;

    public RepositoryEndpoints(
        IIdentityStore identity,
        ManagementAccess access,
        TagDetailsReader tags,
        ScanningEndpoints scanning,
        ImageEndpoints images,
        IOptions<RegistryOptions> options,
        TimeProvider time,
        ILogger<RepositoryEndpoints> logger)
    {
        _identity = identity;
        _access = access;
        _tags = tags;
        _scanning = scanning;
        _images = images;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var repositories = group.MapGroup("/repositories").WithTags("Repositories");

        repositories.MapPost("/{namespace}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace) => e.CreateAsync(c, @namespace))
            .WithName("CreateRepository").WithSummary("Create a repository in a namespace (its owner or an administrator)")
            .Accepts<CreateRepositoryRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<RepositoryResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        repositories.MapGet("", ([FromServices] RepositoryEndpoints e, HttpContext c) => e.ListAsync(c, null))
            .WithName("ListRepositories").WithSummary("List the repositories the caller may pull, a page at a time; ?q= keeps names that contain the text, ignoring case")
            .Produces<RepositoryListResponse>().ProducesValidationProblem();

        repositories.MapGet("/{namespace}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace) => e.ListAsync(c, @namespace))
            .WithName("ListNamespaceRepositories").WithSummary("List the repositories of a namespace that the caller may pull; ?q= keeps names that contain the text, ignoring case")
            .Produces<RepositoryListResponse>().ProducesValidationProblem();

        repositories.MapGet("/{namespace}/{repo}/tags", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e.ListTagsAsync(c, @namespace, repo))
            .WithName("ListRepositoryTags").WithSummary("List tags with digest, media type, size, platforms and push time; for a repo with '/', the catch-all route serves the same suffix")
            .Produces<TagListResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapGet("/{namespace}/{repo}/teamAccess", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e.ListTeamAccessAsync(c, @namespace, repo))
            .WithName("ListTeamAccess").WithSummary("List the teams granted access to the repository")
            .Produces<TeamAccessListResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapPut("/{namespace}/{repo}/teamAccess/{team}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo, string team) => e.SetTeamAccessAsync(c, @namespace, repo, team))
            .WithName("SetTeamAccess").WithSummary("Grant a team of the namespace's organization access to the repository (repository administrators)")
            .Accepts<SetTeamAccessRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<TeamAccessResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapDelete("/{namespace}/{repo}/teamAccess/{team}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo, string team) => e.RemoveTeamAccessAsync(c, @namespace, repo, team))
            .WithName("RemoveTeamAccess").WithSummary("Remove a team's access to the repository (repository administrators)")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapGet("/{namespace}/{**repo}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e.GetAnyAsync(c, @namespace, repo))
            .WithName("GetRepository").WithSummary("Get a repository's settings; repo may contain '/'")
            .Produces<RepositoryResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapPatch("/{namespace}/{**repo}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e.UpdateAsync(c, @namespace, repo))
            .WithName("UpdateRepository").WithSummary("Change a repository's visibility, description, scanOnPush or immutableTags (repository administrators)")
            .Accepts<UpdateRepositoryRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<RepositoryResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapDelete("/{namespace}/{**repo}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e.DeleteAnyAsync(c, @namespace, repo))
            .WithName("DeleteRepository").WithSummary("Delete a repository with its tags, manifests and grants (repository administrators)")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        // Scan requests of repositories whose name inside the namespace contains '/'; documented by QueueScan.
        repositories.MapPost("/{namespace}/{**repo}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e._scanning.PostAnyAsync(c, @namespace, repo))
            .ExcludeFromDescription();

        // Team grants and pull policies of repositories whose name inside the namespace contains '/'; documented by
        // SetTeamAccess and SetPullPolicy.
        repositories.MapPut("/{namespace}/{**repo}", ([FromServices] RepositoryEndpoints e, HttpContext c, string @namespace, string repo) => e.PutAnyAsync(c, @namespace, repo))
            .ExcludeFromDescription();
    }

    private async Task<IResult> CreateAsync(HttpContext context, string namespaceName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementInput.RequireName(namespaceName, "namespace");
        var request = await ManagementInput.ReadBodyAsync<CreateRepositoryRequest>(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, request.Name, "name");
        ManagementRequestFilter.SetAuditRepository(context, name.Value);
        var visibility = request.Visibility is null ? RepositoryVisibility.Private : ManagementEnums.ParseVisibility(request.Visibility, "visibility");
        var description = ManagementInput.CheckText(request.Description, "description");

        await _access.RequireNamespaceOwnerAsync(caller, namespaceName, "create repositories", context.RequestAborted);
        if (await _identity.GetRepositoryAsync(name, context.RequestAborted) is not null)
        {
            throw ManagementProblem.Conflict($"The repository '{name}' already exists.");
        }

        var settings = new RepositorySettings(
            name,
            visibility,
            description,
            request.ScanOnPush ?? false,
            request.ImmutableTags ?? false,
            _time.GetUtcNow());
        var created = await _identity.CreateRepositoryAsync(settings, context.RequestAborted);
        ManagementLog.RepositoryCreated(_logger, name.Value, UserEndpoints.Describe(caller));
        return TypedResults.Created(RepositoryPath(context, name), RepositoryResponse.From(created));
    }

    private async Task<IResult> ListAsync(HttpContext context, string? namespaceName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.MaxPageSize);
        var contains = ManagementInput.ReadSearchText(context.Request, "q", RepositoryName.MaxLength);
        if (namespaceName is not null)
        {
            ManagementInput.RequireName(namespaceName, "namespace");
        }

        var query = new RepositoryListQuery
        {
            UserName = caller.UserName,
            IsAdmin = caller.IsAdmin,
            Namespace = namespaceName,
            NameContains = contains,
            Last = last,
            Limit = limit + 1,
        };
        var summaries = await _identity.ListRepositorySummariesAsync(query, context.RequestAborted);
        var page = ManagementInput.Page(context, summaries, limit, summary => summary.Name.Value);
        return TypedResults.Ok(new RepositoryListResponse(page.Select(RepositorySummaryResponse.From).ToList()));
    }

    /// <summary>Serves GET on the catch-all route: a repository, or the tags or team grants of a multi-component one.</summary>
    private Task<IResult> GetAnyAsync(HttpContext context, string namespaceName, string path)
    {
        if (ScanningEndpoints.TryParseRepositoryRoute(path, out var scannedRepo, out var digest, out var kind))
        {
            return _scanning.GetRouteAsync(context, namespaceName, scannedRepo, digest, kind);
        }

        if (ImageEndpoints.TryParseRoute(path, out var imageRepo, out var digestText, out var imageKind) && imageKind == ImageEndpoints.RouteKind.Manifest)
        {
            return _images.GetRouteAsync(context, namespaceName, imageRepo, digestText);
        }

        if (path.EndsWith(TagsSuffix, StringComparison.Ordinal))
        {
            return ListTagsAsync(context, namespaceName, path[..^TagsSuffix.Length]);
        }

        var (repo, team, isTeamAccess) = SplitTeamAccess(path);
        if (isTeamAccess)
        {
            return team is null ? ListTeamAccessAsync(context, namespaceName, repo) : throw NoSuchRoute(context);
        }

        return GetAsync(context, namespaceName, path);
    }

    private async Task<IResult> GetAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        var settings = await _access.RequireRepositoryAsync(caller, name, AccessLevel.ReadOnly, "reading it", context.RequestAborted);
        return TypedResults.Ok(RepositoryResponse.From(settings));
    }

    private async Task<IResult> UpdateAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryAsync(caller, name, AccessLevel.Admin, "changing its settings", context.RequestAborted);

        var request = await ManagementInput.ReadBodyAsync<UpdateRepositoryRequest>(context);
        var update = new RepositorySettingsUpdate
        {
            Visibility = request.Visibility is null ? null : ManagementEnums.ParseVisibility(request.Visibility, "visibility"),
            Description = ManagementInput.CheckText(request.Description, "description"),
            ScanOnPush = request.ScanOnPush,
            ImmutableTags = request.ImmutableTags,
        };

        var settings = await _identity.UpdateRepositoryAsync(name, update, context.RequestAborted)
            ?? throw ManagementProblem.NotFound($"The repository '{name}' does not exist.");
        return TypedResults.Ok(RepositoryResponse.From(settings));
    }

    /// <summary>
    /// Serves DELETE on the catch-all route: a repository, or a team grant, manifest or tag of a multi-component one.
    /// </summary>
    private Task<IResult> DeleteAnyAsync(HttpContext context, string namespaceName, string path)
    {
        if (ImageEndpoints.TryParseRoute(path, out var imageRepo, out var argument, out var imageKind))
        {
            return _images.DeleteRouteAsync(context, namespaceName, imageRepo, argument, imageKind);
        }

        var (repo, team, isTeamAccess) = SplitTeamAccess(path);
        if (isTeamAccess)
        {
            return team is null ? throw NoSuchRoute(context) : RemoveTeamAccessAsync(context, namespaceName, repo, team);
        }

        return DeleteAsync(context, namespaceName, path);
    }

    private async Task<IResult> DeleteAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryAsync(caller, name, AccessLevel.Admin, "deleting it", context.RequestAborted);

        // TODO: the delete cascades to the repository's upload sessions, but the data of its open uploads stays in the
        // blob store, because garbage collection finds uploads to purge through their sessions.
        if (!await _identity.DeleteRepositoryAsync(name, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The repository '{name}' does not exist.");
        }

        ManagementLog.RepositoryDeleted(_logger, name.Value, UserEndpoints.Describe(caller));
        return TypedResults.NoContent();
    }

    /// <summary>Serves PUT on the catch-all route: a team grant or the pull policy of a multi-component repository.</summary>
    private Task<IResult> PutAnyAsync(HttpContext context, string namespaceName, string path)
    {
        if (ScanningEndpoints.TryParseRepositoryRoute(path, out var policyRepo, out _, out var kind) && kind == ScanningEndpoints.RouteKind.Policy)
        {
            return _scanning.PutPolicyAsync(context, namespaceName, policyRepo);
        }

        var (repo, team, isTeamAccess) = SplitTeamAccess(path);
        return isTeamAccess && team is not null ? SetTeamAccessAsync(context, namespaceName, repo, team) : throw NoSuchRoute(context);
    }

    private async Task<IResult> ListTeamAccessAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryAsync(caller, name, AccessLevel.ReadOnly, "listing its team access", context.RequestAborted);

        var grants = await _identity.ListTeamAccessAsync(name, context.RequestAborted);
        return TypedResults.Ok(new TeamAccessListResponse(grants.Select(TeamAccessResponse.From).ToList()));
    }

    private async Task<IResult> SetTeamAccessAsync(HttpContext context, string namespaceName, string repo, string team)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryAsync(caller, name, AccessLevel.Admin, "granting team access", context.RequestAborted);

        var request = await ManagementInput.ReadBodyAsync<SetTeamAccessRequest>(context);
        var level = ManagementEnums.ParseAccessLevel(request.AccessLevel, "accessLevel");
        await RequireNamespaceTeamAsync(name, team, context.RequestAborted);

        await _identity.SetTeamAccessAsync(name, name.Namespace, team, level, context.RequestAborted);
        ManagementLog.TeamAccessSet(_logger, name.Value, name.Namespace, team, ManagementEnums.Format(level), UserEndpoints.Describe(caller));
        return TypedResults.Ok(new TeamAccessResponse(name.Namespace, team, ManagementEnums.Format(level)));
    }

    private async Task<IResult> RemoveTeamAccessAsync(HttpContext context, string namespaceName, string repo, string team)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryAsync(caller, name, AccessLevel.Admin, "removing team access", context.RequestAborted);

        if (!await _identity.RemoveTeamAccessAsync(name, name.Namespace, team, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The team '{name.Namespace}/{team}' has no access to the repository '{name}'.");
        }

        return TypedResults.NoContent();
    }

    private async Task<IResult> ListTagsAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryAsync(caller, name, AccessLevel.ReadOnly, "listing its tags", context.RequestAborted);

        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.MaxPageSize);
        var tags = await _tags.ReadAsync(name, last, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, tags, limit, tag => tag.Tag);
        return TypedResults.Ok(new TagListResponse(page));
    }

    /// <summary>Throws unless the repository's namespace is an organization that has the team.</summary>
    private async ValueTask RequireNamespaceTeamAsync(RepositoryName repository, string team, CancellationToken cancellationToken)
    {
        if (await _identity.GetOrganizationAsync(repository.Namespace, cancellationToken) is null)
        {
            throw ManagementProblem.Invalid(
                "team",
                $"The namespace '{repository.Namespace}' is a user, not an organization; only repositories of an organization grant access to teams.");
        }

        if (await _identity.GetTeamAsync(repository.Namespace, team, cancellationToken) is null)
        {
            throw ManagementProblem.NotFound($"The organization '{repository.Namespace}' has no team '{team}'.");
        }
    }

    /// <summary>
    /// Splits <c>repo/teamAccess[/team]</c>. IsTeamAccess is false when the path has no <c>teamAccess</c> segment
    /// after the repository; Team is null for the bare listing suffix.
    /// </summary>
    private static (string Repo, string? Team, bool IsTeamAccess) SplitTeamAccess(string path)
    {
        var segments = path.Split('/');
        var index = Array.IndexOf(segments, TeamAccessSegment);
        if (index < 1 || index < segments.Length - 2)
        {
            return (path, null, false);
        }

        var repo = string.Join('/', segments[..index]);
        return index == segments.Length - 1 ? (repo, null, true) : (repo, segments[^1], true);
    }

    private static ManagementProblem NoSuchRoute(HttpContext context) =>
        ManagementProblem.NotFound($"No management endpoint serves {context.Request.Method} {context.Request.Path}.");

    private static string RepositoryPath(HttpContext context, RepositoryName name) =>
        $"{context.Request.PathBase}{ManagementEndpoints.Prefix(context)}/repositories/{name.Value}";
}
