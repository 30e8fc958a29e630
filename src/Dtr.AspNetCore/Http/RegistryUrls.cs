using Dtr.AspNetCore.Configuration;
using Dtr.Digests;
using Dtr.Names;
using Microsoft.AspNetCore.Http;
using Dtr.AspNetCore.Settings;

namespace Dtr.AspNetCore.Http;

/// <summary>
/// Builds the absolute URLs of <c>Location</c> and <c>Link</c> headers, from the effective
/// <see cref="RegistryOptions.PublicBaseUrl"/> (configured, or changed at run time through <c>/settings</c>) when it
/// is set, otherwise from the request's scheme, host and path base.
/// </summary>
internal sealed class RegistryUrls
{
    private readonly RegistrySettings _settings;

    public RegistryUrls(RegistrySettings settings)
    {
        _settings = settings;
    }

    public string Blob(HttpRequest request, RepositoryName repository, Digest digest) =>
        Base(request) + "/v2/" + repository.Value + "/blobs/" + digest.Value;

    public string Upload(HttpRequest request, RepositoryName repository, string uploadId) =>
        Base(request) + "/v2/" + repository.Value + "/blobs/uploads/" + uploadId;

    public string Manifest(HttpRequest request, RepositoryName repository, string reference) =>
        Base(request) + "/v2/" + repository.Value + "/manifests/" + reference;

    /// <summary>Returns the registry's base URL: the configured public base URL, or the one the request was sent to.</summary>
    public string Registry(HttpRequest request) => Base(request);

    /// <summary>Returns a relative URL, as the distribution specification's <c>Link</c> header examples use.</summary>
    public static string Relative(HttpRequest request, string pathAndQuery) => request.PathBase.Value + pathAndQuery;

    private string Base(HttpRequest request) =>
        _settings.Current.PublicBase ?? request.Scheme + "://" + request.Host.ToUriComponent() + request.PathBase.ToUriComponent();
}
