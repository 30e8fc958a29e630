using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Dtr.Scanning.Service;

namespace Dtr.Scanning.Tests.Service;

public sealed class ArchiveSignatureVerifierTests
{
    private static readonly byte[] Archive = Encoding.UTF8.GetBytes("an archive of OSV records");

    [Fact]
    public void Verify_EcdsaDer_Valid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());

        var signature = key.SignData(Archive, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        Assert.True(verifier.Verify(SHA256.HashData(Archive), signature));
    }

    [Fact]
    public void Verify_EcdsaP1363_Valid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());

        var signature = key.SignData(Archive, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        Assert.True(verifier.Verify(SHA256.HashData(Archive), signature));
    }

    [Fact]
    public void Verify_Base64WithLineBreak_Valid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());

        var signature = key.SignData(Archive, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var text = Encoding.ASCII.GetBytes(Convert.ToBase64String(signature) + "\n");

        Assert.True(verifier.Verify(SHA256.HashData(Archive), text));
    }

    [Fact]
    public void Verify_RsaPkcs1_Valid()
    {
        using var key = RSA.Create(2048);
        using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());

        var signature = key.SignData(Archive, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        Assert.True(verifier.Verify(SHA256.HashData(Archive), signature));
    }

    [Fact]
    public void Verify_ChangedArchive_Invalid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());
        var signature = key.SignData(Archive, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        Assert.False(verifier.Verify(SHA256.HashData("another archive"u8), signature));
    }

    [Fact]
    public void Verify_OtherKey_Invalid()
    {
        using var key = RSA.Create(2048);
        using var other = RSA.Create(2048);
        using var verifier = ArchiveSignatureVerifier.FromPem(other.ExportSubjectPublicKeyInfoPem());
        var signature = key.SignData(Archive, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        Assert.False(verifier.Verify(SHA256.HashData(Archive), signature));
    }

    [Fact]
    public void Verify_EmptyOrGarbage_Invalid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());

        Assert.False(verifier.Verify(SHA256.HashData(Archive), []));
        Assert.False(verifier.Verify(SHA256.HashData(Archive), "not a signature"u8));
    }

    [Fact]
    public void FromPem_NotAKey_Throws()
    {
        Assert.ThrowsAny<Exception>(() => ArchiveSignatureVerifier.FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
        Assert.ThrowsAny<ArgumentException>(() => ArchiveSignatureVerifier.FromPem("no pem here"));
    }

    [Fact]
    public async Task Verify_OpensslSignature_Valid()
    {
        var folder = Directory.CreateTempSubdirectory("dtr-openssl-").FullName;
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var keyPath = Path.Combine(folder, "key.pem");
            var archivePath = Path.Combine(folder, "archive.zip");
            var signaturePath = Path.Combine(folder, "archive.zip.sig");
            await File.WriteAllTextAsync(keyPath, key.ExportECPrivateKeyPem());
            await File.WriteAllBytesAsync(archivePath, Archive);

            await RunAsync("openssl", "dgst", "-sha256", "-sign", keyPath, "-out", signaturePath, archivePath);

            var signature = await File.ReadAllBytesAsync(signaturePath);
            using var verifier = ArchiveSignatureVerifier.FromPem(key.ExportSubjectPublicKeyInfoPem());
            Assert.True(verifier.Verify(SHA256.HashData(Archive), signature));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} exited with {process.ExitCode}: {error}");
    }
}
