using Dtr.Errors;

namespace Dtr.Manifests;

/// <summary>
/// Parses and validates manifests pushed to the registry: OCI image manifests and indexes, Docker schema 2
/// manifests and manifest lists, and artifacts.
/// </summary>
public static class ManifestParser
{
    /// <summary>
    /// Parses a manifest and validates its structure.
    /// </summary>
    /// <param name="content">The manifest bytes exactly as pushed.</param>
    /// <param name="contentType">The request's <c>Content-Type</c> media type without parameters, or null.</param>
    /// <exception cref="RegistryException">
    /// <see cref="OciErrorCode.ManifestInvalid"/> with a message naming the problem: not JSON, Docker schema 1,
    /// an unknown media type, a media type that disagrees with <paramref name="contentType"/>, or a missing or
    /// invalid field or descriptor.
    /// </exception>
    public static ParsedManifest Parse(ReadOnlySpan<byte> content, string? contentType)
    {
        throw new NotImplementedException();
    }
}
