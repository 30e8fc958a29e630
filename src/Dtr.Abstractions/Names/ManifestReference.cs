using System.Diagnostics.CodeAnalysis;
using Dtr.Digests;

namespace Dtr.Names;

/// <summary>
/// The <c>&lt;reference&gt;</c> of a manifest URL: either a tag or a digest.
/// </summary>
public readonly struct ManifestReference
{
    private ManifestReference(string? tag, Digest digest)
    {
        TagName = tag;
        Digest = digest;
    }

    /// <summary>The tag, when the reference is a tag; otherwise null.</summary>
    public string? TagName { get; }

    /// <summary>The digest, when the reference is a digest; otherwise the empty digest.</summary>
    public Digest Digest { get; }

    /// <summary>Whether the reference is a digest.</summary>
    [MemberNotNullWhen(false, nameof(TagName))]
    public bool IsDigest => TagName is null;

    /// <summary>Creates a tag reference.</summary>
    public static ManifestReference ForTag(string tag)
    {
        if (!Tag.IsValid(tag))
        {
            throw new ArgumentException($"The tag '{tag}' is invalid.", nameof(tag));
        }

        return new ManifestReference(tag, default);
    }

    /// <summary>Creates a digest reference.</summary>
    public static ManifestReference ForDigest(Digest digest) => new(null, digest);

    /// <summary>
    /// Parses a reference. Text with a colon must be a valid digest; text without one must be a valid tag.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ManifestReference reference, [NotNullWhen(false)] out string? error)
    {
        reference = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "The manifest reference is empty; expected a tag or a digest.";
            return false;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            if (!Digest.TryParse(value, out var digest, out error))
            {
                return false;
            }

            reference = ForDigest(digest);
            return true;
        }

        if (!Tag.IsValid(value))
        {
            error = $"The tag '{(value.Length > 150 ? value[..150] + "…" : value)}' is invalid: a tag is 1 to 128 characters from [A-Za-z0-9_.-] and must not start with '.' or '-'.";
            return false;
        }

        reference = new ManifestReference(value, default);
        error = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => TagName ?? Digest.ToString();
}
