using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Dtr.Digests;

/// <summary>
/// A content digest such as <c>sha256:2c26b4…</c>: an algorithm and the lowercase hex encoding of the hash.
/// </summary>
/// <remarks>
/// Parsing is strict. The algorithm must be <c>sha256</c> or <c>sha512</c>, and the encoded part must be exactly
/// as long as that algorithm's hex output and use only the characters <c>0-9a-f</c>, as the OCI image
/// specification requires for registered algorithms. Anything else, including uppercase hex, is invalid.
/// </remarks>
public readonly struct Digest : IEquatable<Digest>, ISpanFormattable
{
    private readonly string? _value;

    private Digest(DigestAlgorithm algorithm, string value)
    {
        Algorithm = algorithm;
        _value = value;
    }

    /// <summary>The hash algorithm.</summary>
    public DigestAlgorithm Algorithm { get; }

    /// <summary>The lowercase hex encoding of the hash, without the algorithm prefix.</summary>
    public string Encoded => Value[(Value.IndexOf(':', StringComparison.Ordinal) + 1)..];

    /// <summary>The full digest string, for example <c>sha256:e3b0…</c>.</summary>
    public string Value => _value ?? throw new InvalidOperationException("The digest is the default value and was never set.");

    /// <summary>Whether this is the default, unset value.</summary>
    public bool IsEmpty => _value is null;

    /// <summary>Parses a digest string, or throws <see cref="FormatException"/> saying why it is invalid.</summary>
    public static Digest Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!TryParse(value, out var digest, out var error))
        {
            throw new FormatException(error);
        }

        return digest;
    }

    /// <summary>Parses a digest string and returns whether it is valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest) => TryParse(value, out digest, out _);

    /// <summary>Parses a digest string; on failure <paramref name="error"/> describes what is wrong with it.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest, [NotNullWhen(false)] out string? error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "The digest is empty; expected '<algorithm>:<hex>', for example 'sha256:' followed by 64 hex digits.";
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            error = $"The digest '{Truncate(value)}' is invalid; expected '<algorithm>:<hex>', for example 'sha256:' followed by 64 hex digits.";
            return false;
        }

        if (!DigestAlgorithms.TryParse(value.AsSpan(0, colon), out var algorithm))
        {
            error = $"The digest algorithm '{Truncate(value[..colon])}' is not supported; use sha256 or sha512.";
            return false;
        }

        var encoded = value.AsSpan(colon + 1);
        if (encoded.Length != algorithm.GetEncodedLength() || !IsLowerHex(encoded))
        {
            error = $"The digest '{Truncate(value)}' is invalid; a {algorithm.GetName()} digest has exactly {algorithm.GetEncodedLength()} lowercase hex digits.";
            return false;
        }

        digest = new Digest(algorithm, value);
        error = null;
        return true;
    }

    /// <summary>Creates a digest from a finished hash value.</summary>
    public static Digest FromHash(DigestAlgorithm algorithm, ReadOnlySpan<byte> hash)
    {
        var expectedBytes = algorithm.GetEncodedLength() / 2;
        if (hash.Length != expectedBytes)
        {
            throw new ArgumentException($"A {algorithm.GetName()} hash has {expectedBytes} bytes, not {hash.Length}.", nameof(hash));
        }

        return new Digest(algorithm, algorithm.GetName() + ":" + Convert.ToHexStringLower(hash));
    }

    /// <summary>Computes the digest of a byte sequence.</summary>
    public static Digest Compute(ReadOnlySpan<byte> content, DigestAlgorithm algorithm = DigestAlgorithm.Sha256)
    {
        Span<byte> hash = stackalloc byte[64];
        var written = algorithm switch
        {
            DigestAlgorithm.Sha256 => SHA256.HashData(content, hash),
            DigestAlgorithm.Sha512 => SHA512.HashData(content, hash),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown digest algorithm."),
        };
        return FromHash(algorithm, hash[..written]);
    }

    /// <summary>Finishes an incremental hash and returns its digest; the hash is reset for reuse.</summary>
    /// <exception cref="ArgumentException">The hash does not use <paramref name="algorithm"/>.</exception>
    public static Digest FromIncrementalHash(DigestAlgorithm algorithm, IncrementalHash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);

        // Checked before finishing, so a mismatch leaves the hash intact. A length check alone would let a
        // SHA3-256 hash pass as sha256.
        if (hash.AlgorithmName != algorithm.GetHashAlgorithmName())
        {
            throw new ArgumentException($"The hash uses {hash.AlgorithmName.Name}, not {algorithm.GetName()}.", nameof(hash));
        }

        Span<byte> buffer = stackalloc byte[64];
        var written = hash.GetHashAndReset(buffer);
        return FromHash(algorithm, buffer[..written]);
    }

    /// <inheritdoc />
    public bool Equals(Digest other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Digest other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <inheritdoc />
    public override string ToString() => _value ?? string.Empty;

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        var text = ToString();
        if (text.AsSpan().TryCopyTo(destination))
        {
            charsWritten = text.Length;
            return true;
        }

        charsWritten = 0;
        return false;
    }

    /// <summary>Compares two digests for equality.</summary>
    public static bool operator ==(Digest left, Digest right) => left.Equals(right);

    /// <summary>Compares two digests for inequality.</summary>
    public static bool operator !=(Digest left, Digest right) => !left.Equals(right);

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    // Error messages echo client input; a bounded echo keeps a hostile value from bloating responses and logs.
    private static string Truncate(string value) => value.Length <= 150 ? value : value[..150] + "…";
}
