using System.Security.Cryptography;
using System.Text;

namespace Dtr.Scanning.Service;

/// <summary>
/// Checks the detached signature of a vulnerability database archive against a configured public key. The signature
/// is over the SHA-256 hash of the archive bytes: ECDSA in DER form (what <c>openssl dgst -sha256 -sign</c> writes)
/// or IEEE P1363 form, or RSA PKCS#1 v1.5. A signature file may hold the raw bytes or their base64 text.
/// </summary>
internal sealed class ArchiveSignatureVerifier : IDisposable
{
    // A signature of a 4096-bit RSA key is 512 bytes; base64 text and line breaks make it at most about 700.
    private const int MaxSignatureBytes = 16 * 1024;

    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private ArchiveSignatureVerifier(ECDsa? ecdsa, RSA? rsa)
    {
        _ecdsa = ecdsa;
        _rsa = rsa;
    }

    /// <summary>The largest signature file accepted, in bytes.</summary>
    public static int MaxSignatureLength => MaxSignatureBytes;

    /// <summary>Reads a PEM public key (<c>-----BEGIN PUBLIC KEY-----</c>) of an ECDSA or RSA key.</summary>
    /// <exception cref="ArgumentException">The text contains no PEM public key.</exception>
    /// <exception cref="CryptographicException">The key is neither an ECDSA nor an RSA key.</exception>
    public static ArchiveSignatureVerifier FromPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            return new ArchiveSignatureVerifier(ecdsa, null);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new ArchiveSignatureVerifier(null, rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>Returns the verifier of the configured key, or null when no key is configured.</summary>
    public static ArchiveSignatureVerifier? FromOptions(ScanningOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.PublicKeyPem))
        {
            return FromPem(options.PublicKeyPem);
        }

        return string.IsNullOrWhiteSpace(options.PublicKeyFile) ? null : FromPem(File.ReadAllText(options.PublicKeyFile));
    }

    /// <summary>
    /// Returns whether <paramref name="signature"/> is a valid signature of the archive whose SHA-256 hash is
    /// <paramref name="sha256"/>.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature)
    {
        if (sha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"The hash is {sha256.Length} bytes long; a SHA-256 hash has 32.", nameof(sha256));
        }

        var raw = DecodeSignature(signature);
        if (raw.Length == 0)
        {
            return false;
        }

        if (_rsa is not null)
        {
            return _rsa.VerifyHash(sha256, raw, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        // A P1363 signature is exactly twice the field size; DER is a SEQUENCE (0x30) of two INTEGERs and so a few
        // bytes longer or, rarely, shorter. Trying both forms costs at most one extra verification.
        return _ecdsa!.VerifyHash(sha256, raw, DSASignatureFormat.Rfc3279DerSequence)
            || _ecdsa.VerifyHash(sha256, raw, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>
    /// Returns the raw signature bytes of a signature file: the bytes themselves, or the decoded base64 text when the
    /// file is base64 (surrounding whitespace and line breaks allowed).
    /// </summary>
    public static byte[] DecodeSignature(ReadOnlySpan<byte> signature)
    {
        var text = TrimAsciiWhitespace(signature);
        if (text.Length > 0 && IsBase64Text(text))
        {
            var chars = Encoding.ASCII.GetString(text);
            try
            {
                return Convert.FromBase64String(chars);
            }
            catch (FormatException)
            {
                // Bytes that happen to be base64 characters but do not decode are a raw signature.
            }
        }

        return signature.ToArray();
    }

    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }

    private static ReadOnlySpan<byte> TrimAsciiWhitespace(ReadOnlySpan<byte> bytes)
    {
        var start = 0;
        var end = bytes.Length;
        while (start < end && IsWhitespace(bytes[start]))
        {
            start++;
        }

        while (end > start && IsWhitespace(bytes[end - 1]))
        {
            end--;
        }

        return bytes[start..end];
    }

    private static bool IsWhitespace(byte value) => value is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t';

    private static bool IsBase64Text(ReadOnlySpan<byte> text)
    {
        foreach (var value in text)
        {
            var isBase64 = value is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'+' or (byte)'/' or (byte)'=';
            if (!isBase64 && !IsWhitespace(value))
            {
                return false;
            }
        }

        return true;
    }
}
