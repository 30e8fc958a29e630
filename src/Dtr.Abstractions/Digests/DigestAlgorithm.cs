using System.Security.Cryptography;

namespace Dtr.Digests;

/// <summary>
/// A content digest algorithm registered by the OCI image specification.
/// </summary>
public enum DigestAlgorithm
{
    /// <summary>SHA-256, written <c>sha256</c>; every registry must support it.</summary>
    Sha256,

    /// <summary>SHA-512, written <c>sha512</c>.</summary>
    Sha512,
}

/// <summary>
/// Names, sizes and hash factories of the supported <see cref="DigestAlgorithm"/> values.
/// </summary>
public static class DigestAlgorithms
{
    /// <summary>Returns the name used in digest strings, such as <c>sha256</c>.</summary>
    public static string GetName(this DigestAlgorithm algorithm) => algorithm switch
    {
        DigestAlgorithm.Sha256 => "sha256",
        DigestAlgorithm.Sha512 => "sha512",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown digest algorithm."),
    };

    /// <summary>Returns the length of the hex-encoded hash: 64 for SHA-256 and 128 for SHA-512.</summary>
    public static int GetEncodedLength(this DigestAlgorithm algorithm) => algorithm switch
    {
        DigestAlgorithm.Sha256 => 64,
        DigestAlgorithm.Sha512 => 128,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown digest algorithm."),
    };

    /// <summary>Creates an incremental hash for this algorithm; the caller disposes it.</summary>
    public static IncrementalHash CreateHash(this DigestAlgorithm algorithm) => IncrementalHash.CreateHash(algorithm.GetHashAlgorithmName());

    /// <summary>Returns the .NET name of the hash algorithm, such as <see cref="HashAlgorithmName.SHA256"/>.</summary>
    public static HashAlgorithmName GetHashAlgorithmName(this DigestAlgorithm algorithm) => algorithm switch
    {
        DigestAlgorithm.Sha256 => HashAlgorithmName.SHA256,
        DigestAlgorithm.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown digest algorithm."),
    };

    /// <summary>Parses an algorithm name; only the registered lowercase names are accepted.</summary>
    public static bool TryParse(ReadOnlySpan<char> name, out DigestAlgorithm algorithm)
    {
        if (name.SequenceEqual("sha256"))
        {
            algorithm = DigestAlgorithm.Sha256;
            return true;
        }

        if (name.SequenceEqual("sha512"))
        {
            algorithm = DigestAlgorithm.Sha512;
            return true;
        }

        algorithm = default;
        return false;
    }
}
