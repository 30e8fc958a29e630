using Dtr.AspNetCore.Endpoints;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Images and tags of a repository: <c>/repositories/{namespace}/{repo}/manifests/{digest}</c> (details and delete)
/// and <c>/repositories/{namespace}/{repo}/tags/{tag}</c> (delete).
/// </summary>
/// <remarks>
/// Routes with a one-component <c>repo</c> are mapped here; for longer names the catch-all routes of
/// <see cref="RepositoryEndpoints"/> recognise the same suffixes through <see cref="TryParseRoute"/>. A digest
/// contains ':', which no repository name does, so the manifest suffix is unambiguous. The tag suffix is not: a
/// DELETE of <c>{namespace}/{repo}/tags/{tag}</c> deletes the tag, so a repository whose second-to-last name
/// component is "tags" cannot be deleted through this API.
/// Deletes follow the rules of <c>/v2</c>: they need read-write access and <c>Registry:DeleteEnabled</c>, go
/// through <see cref="ManifestEndpoints.DeleteReferenceAsync"/>, and are rejected when they would remove a tag of a
/// repository with immutable tags.
/// </remarks>
internal sealed class ImageEndpoints
{
    private readonly IMetadataStore _metadata;
    private readonly ManagementAccess _access;
    private readonly ManifestEndpoints _manifests;
    private readonly ManifestDetailsReader _details;
    private readonly ILogger<ImageEndpoints> _logger;

    public ImageEndpoints(
        IMetadataStore metadata,
        ManagementAccess access,
        ManifestEndpoints manifests,
        ManifestDetailsReader details,
        ILogger<ImageEndpoints> logger)
    {
        _metadata = metadata;
        _access = access;
        _manifests = manifests;
        _details = details;
        _logger = logger;
    }

    /// <summary>What a catch-all repository path addresses.</summary>
    public enum RouteKind
    {
        /// <summary><c>manifests/{digest}</c>.</summary>
        Manifest,

        /// <summary><c>tags/{tag}</c>.</summary>
        Tag,
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var repositories = group.MapGroup("/repositories").WithTags("Repositories");

        repositories.MapGet("/{namespace}/{repo}/manifests/{digest}", ([FromServices] ImageEndpoints e, HttpContext c, string @namespace, string repo, string digest) => e.GetManifestAsync(c, @namespace, repo, digest))
            .WithName("GetManifestDetails")
            .WithSummary("Get a manifest's tags and size; for an image also its platform, creation time, config digest and layers, for an index its child manifests")
            .Produces<ManifestDetailsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapDelete("/{namespace}/{repo}/manifests/{digest}", ([FromServices] ImageEndpoints e, HttpContext c, string @namespace, string repo, string digest) => e.DeleteManifestAsync(c, @namespace, repo, digest))
            .WithName("DeleteManifest").WithSummary("Delete a manifest and every tag that points to it, like a /v2 DELETE by digest (read-write access)")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        repositories.MapDelete("/{namespace}/{repo}/tags/{tag}", ([FromServices] ImageEndpoints e, HttpContext c, string @namespace, string repo, string tag) => e.DeleteTagAsync(c, @namespace, repo, tag))
            .WithName("DeleteTag").WithSummary("Delete one tag and leave its manifest, like a /v2 DELETE of a tag (read-write access)")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    /// <summary>
    /// Recognises <c>repo/manifests/{digest}</c> and <c>repo/tags/{tag}</c> at the end of a catch-all repository path.
    /// The digest segment must contain ':'.
    /// </summary>
    public static bool TryParseRoute(string path, out string repo, out string argument, out RouteKind kind)
    {
        repo = "";
        argument = "";
        kind = RouteKind.Manifest;
        var segments = path.Split('/');
        if (segments.Length < 3)
        {
            return false;
        }

        if (segments[^2] == "manifests" && segments[^1].Contains(':', StringComparison.Ordinal))
        {
            kind = RouteKind.Manifest;
        }
        else if (segments[^2] == "tags")
        {
            kind = RouteKind.Tag;
        }
        else
        {
            return false;
        }

        repo = string.Join('/', segments[..^2]);
        argument = segments[^1];
        return true;
    }

    /// <summary>Serves a GET of <c>manifests/{digest}</c> on the catch-all repository route.</summary>
    public Task<IResult> GetRouteAsync(HttpContext context, string namespaceName, string repo, string digest) =>
        GetManifestAsync(context, namespaceName, repo, digest);

    /// <summary>Serves a DELETE of <c>manifests/{digest}</c> or <c>tags/{tag}</c> on the catch-all repository route.</summary>
    public Task<IResult> DeleteRouteAsync(HttpContext context, string namespaceName, string repo, string argument, RouteKind kind) => kind switch
    {
        RouteKind.Manifest => DeleteManifestAsync(context, namespaceName, repo, argument),
        _ => DeleteTagAsync(context, namespaceName, repo, argument),
    };

    private async Task<IResult> GetManifestAsync(HttpContext context, string namespaceName, string repo, string digestText)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryContentAsync(caller, name, AccessLevel.ReadOnly, "reading its manifests", context.RequestAborted);

        var digest = RequireDigest(digestText);
        var manifest = await _metadata.GetManifestAsync(name, ManifestReference.ForDigest(digest), context.RequestAborted)
            ?? throw ManagementProblem.NotFound($"The repository '{name}' has no manifest {digest}.");
        return TypedResults.Ok(await _details.ReadAsync(name, manifest, context.RequestAborted));
    }

    private async Task<IResult> DeleteManifestAsync(HttpContext context, string namespaceName, string repo, string digestText)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryContentAsync(caller, name, AccessLevel.ReadWrite, "deleting manifests", context.RequestAborted);
        RequireDeleteEnabled();

        var digest = RequireDigest(digestText);
        if (!await DeleteAsync(context, name, ManifestReference.ForDigest(digest)))
        {
            throw ManagementProblem.NotFound($"The repository '{name}' has no manifest {digest}.");
        }

        ManagementLog.ManifestDeleted(_logger, name.Value, digest.Value, UserEndpoints.Describe(caller));
        return TypedResults.NoContent();
    }

    private async Task<IResult> DeleteTagAsync(HttpContext context, string namespaceName, string repo, string tag)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await _access.RequireRepositoryContentAsync(caller, name, AccessLevel.ReadWrite, "deleting tags", context.RequestAborted);
        RequireDeleteEnabled();

        if (!Tag.IsValid(tag))
        {
            throw ManagementProblem.Invalid(
                "tag",
                $"The tag '{tag}' is invalid: a tag is 1 to 128 characters from [A-Za-z0-9_.-] and must not start with '.' or '-'.");
        }

        if (!await DeleteAsync(context, name, ManifestReference.ForTag(tag)))
        {
            throw ManagementProblem.NotFound($"The repository '{name}' has no tag '{tag}'.");
        }

        ManagementLog.TagDeleted(_logger, name.Value, tag, UserEndpoints.Describe(caller));
        return TypedResults.NoContent();
    }

    /// <summary>Deletes through the <c>/v2</c> code path and turns the rejection of an immutable tag into a 409.</summary>
    private async Task<bool> DeleteAsync(HttpContext context, RepositoryName name, ManifestReference reference)
    {
        var actor = ManagementRequestFilter.GetCaller(context).UserName;
        var registry = context.RequestServices.GetRequiredService<Http.RegistryUrls>().Registry(context.Request);
        try
        {
            return await _manifests.DeleteReferenceAsync(name, reference, actor, registry, context.RequestAborted);
        }
        catch (ImmutableTagException exception)
        {
            throw ManagementProblem.Conflict(exception.Message);
        }
    }

    private void RequireDeleteEnabled()
    {
        if (!_manifests.DeleteEnabled)
        {
            throw ManagementProblem.Conflict("Deletes are disabled on this registry (Registry:DeleteEnabled is false).");
        }
    }

    private static Digest RequireDigest(string text) =>
        Digest.TryParse(text, out var digest, out var error) ? digest : throw ManagementProblem.Invalid("digest", error);
}
