using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// The ECDSA P-256 key that signs and verifies tokens (ES256). It comes from <see cref="RegistryAuthOptions.SigningKeyPath"/>,
/// or from <c>token-signing-key.pem</c> in the data folder, which is generated at first start with owner-only access.
/// </summary>
internal sealed class SigningKeyProvider : IDisposable
{
    /// <summary>The file name of the generated key inside the data folder.</summary>
    public const string GeneratedKeyFileName = "token-signing-key.pem";

    private readonly Lazy<(ECDsa Key, ECDsaSecurityKey SecurityKey)> _key;

    public SigningKeyProvider(IOptions<RegistryOptions> options, ILogger<SigningKeyProvider> logger)
    {
        var registry = options.Value;
        _key = new Lazy<(ECDsa, ECDsaSecurityKey)>(() => Load(registry, logger), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The key with its id (<c>kid</c>), the RFC 7638 thumbprint of its public part.</summary>
    public ECDsaSecurityKey SecurityKey => _key.Value.SecurityKey;

    /// <summary>Loads or generates the key now, so a bad key file stops the host at start instead of at first use.</summary>
    public void EnsureLoaded() => _ = _key.Value;

    public void Dispose()
    {
        if (_key.IsValueCreated)
        {
            _key.Value.Key.Dispose();
        }
    }

    private static (ECDsa, ECDsaSecurityKey) Load(RegistryOptions options, ILogger logger)
    {
        ECDsa key;
        string path;
        if (options.Auth.SigningKeyPath is { } configuredPath)
        {
            path = Path.GetFullPath(configuredPath);
            key = ReadKey(path);
            SecurityLog.SigningKeyLoaded(logger, path);
        }
        else
        {
            var dataDirectory = Path.GetFullPath(options.DataDirectory!);
            Directory.CreateDirectory(dataDirectory);
            path = Path.Combine(dataDirectory, GeneratedKeyFileName);
            key = LoadOrGenerate(path, logger);
        }

        var securityKey = new ECDsaSecurityKey(key) { KeyId = ComputeThumbprint(key) };
        return (key, securityKey);
    }

    private static ECDsa LoadOrGenerate(string path, ILogger logger)
    {
        if (File.Exists(path))
        {
            var existing = ReadKey(path);
            SecurityLog.SigningKeyLoaded(logger, path);
            return existing;
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var writer = new StreamWriter(path, Encoding.ASCII, fileOptions);
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process sharing the data folder wrote the key first; use that one.
            key.Dispose();
            var existing = ReadKey(path);
            SecurityLog.SigningKeyLoaded(logger, path);
            return existing;
        }

        SecurityLog.SigningKeyGenerated(logger, path);
        return key;
    }

    private static ECDsa ReadKey(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The token signing key '{path}' could not be read: {error.Message}", error);
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception error) when (error is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidOperationException(
                $"The token signing key '{path}' is not a PEM-encoded EC private key: {error.Message}. Generate one with 'openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt'.",
                error);
        }

        var parameters = key.ExportParameters(includePrivateParameters: true);
        if (parameters.D is null || key.KeySize != 256 || parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            throw new InvalidOperationException($"The token signing key '{path}' must be a P-256 (prime256v1) private key, because tokens are signed with ES256.");
        }

        return key;
    }

    /// <summary>Computes the RFC 7638 JWK thumbprint: SHA-256 of the canonical JSON of crv, kty, x and y, base64url.</summary>
    private static string ComputeThumbprint(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + Base64Url.EncodeToString(parameters.Q.X)
            + "\",\"y\":\"" + Base64Url.EncodeToString(parameters.Q.Y) + "\"}";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
