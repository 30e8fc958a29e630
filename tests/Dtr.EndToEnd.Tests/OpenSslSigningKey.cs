namespace Dtr.EndToEnd.Tests;

/// <summary>
/// An ECDSA P-256 key pair made with the <c>openssl</c> command-line tool, which signs archives the way an operator
/// would: <c>openssl dgst -sha256 -sign</c>, writing a DER-encoded signature.
/// </summary>
internal sealed class OpenSslSigningKey
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private readonly string _privateKeyPath;

    private OpenSslSigningKey(string privateKeyPath, string publicKeyPath)
    {
        _privateKeyPath = privateKeyPath;
        PublicKeyPath = publicKeyPath;
    }

    /// <summary>The PEM file of the public key, for <c>Registry:Scanning:PublicKeyFile</c>.</summary>
    public string PublicKeyPath { get; }

    /// <summary>Generates a key pair as <c>NAME.key.pem</c> and <c>NAME.pub.pem</c> in <paramref name="directory"/>.</summary>
    public static async Task<OpenSslSigningKey> CreateAsync(string directory, string name)
    {
        var privateKey = Path.Combine(directory, $"{name}.key.pem");
        var publicKey = Path.Combine(directory, $"{name}.pub.pem");
        await RunOpenSslAsync(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", privateKey]);
        await RunOpenSslAsync(["ec", "-in", privateKey, "-pubout", "-out", publicKey]);
        return new OpenSslSigningKey(privateKey, publicKey);
    }

    /// <summary>Signs the SHA-256 digest of <paramref name="content"/> and returns the DER-encoded signature.</summary>
    public async Task<byte[]> SignAsync(byte[] content)
    {
        var directory = Path.GetDirectoryName(_privateKeyPath)!;
        var input = Path.Combine(directory, $"to-sign-{Guid.NewGuid():N}");
        var signature = input + ".sig";
        await File.WriteAllBytesAsync(input, content);
        try
        {
            await RunOpenSslAsync(["dgst", "-sha256", "-sign", _privateKeyPath, "-out", signature, input]);
            return await File.ReadAllBytesAsync(signature);
        }
        finally
        {
            File.Delete(input);
            File.Delete(signature);
        }
    }

    private static async Task RunOpenSslAsync(string[] arguments)
    {
        var result = await CommandRunner.RunAsync("openssl", arguments, CommandTimeout);
        Assert.True(result.Succeeded, $"openssl failed.\n{result.Describe()}");
    }
}
