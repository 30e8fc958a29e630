using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning.Tests.Service;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Scanning;

/// <summary>
/// The sample host with authentication on, basic authentication allowed on <c>/v2</c>, and scanning on, for the
/// scanning API tests. The scan worker runs in the host on real SQLite.
/// </summary>
public class ScanningFactory : ManagementFactory
{
    public ScanningFactory()
        : this(new Dictionary<string, string?>())
    {
    }

    protected ScanningFactory(IReadOnlyDictionary<string, string?> settings)
        : base(new Dictionary<string, string?>(settings)
        {
            ["Registry:Admin:Password"] = AdminPassword,
            ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "true",
        })
    {
    }

    /// <summary>An OSV archive with one High glibc record in Debian 12, fixed in 2.36-9+deb12u3, alias DSA-5514-1.</summary>
    public static byte[] GlibcArchive { get; } =
        TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3", "HIGH", "DSA-5514-1"));

    /// <summary>Stores a blob and links it into the repository, straight into the registry's storage.</summary>
    public async Task StoreBlobAsync(RepositoryName repository, byte[] content)
    {
        var blobs = Services.GetRequiredService<IBlobStore>();
        var digest = Digest.Compute(content);
        var uploadId = Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(uploadId);
        await using (var writer = await blobs.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        await blobs.CommitUploadAsync(uploadId, digest);
        await Services.GetRequiredService<IMetadataStore>().LinkBlobAsync(repository, digest, content.Length);
    }

    /// <summary>Stores a manifest straight into the registry's storage and returns its digest.</summary>
    public async Task<string> StoreManifestAsync(RepositoryName repository, byte[] manifest, params string[] tags)
    {
        var digest = Digest.Compute(manifest);
        var result = await Services.GetRequiredService<IMetadataStore>().PutManifestAsync(new ManifestWrite
        {
            Repository = repository,
            Digest = digest,
            Content = manifest,
            Manifest = ManifestParser.Parse(manifest, null),
            Tags = tags,
        });
        Assert.True(result.Stored, $"Storing manifest {digest} in {repository} failed.");
        return digest.Value;
    }

    /// <summary>Stores a Debian 12 image with libc6 at <paramref name="glibcVersion"/> and returns its manifest.</summary>
    public async Task<(string Digest, byte[] Manifest)> StoreDebianImageAsync(RepositoryName repository, string glibcVersion, string architecture = "amd64", params string[] tags)
    {
        var config = TestArtifacts.Config(architecture);
        var layer = TestArtifacts.DebianLayer(glibcVersion);
        await StoreBlobAsync(repository, config);
        await StoreBlobAsync(repository, layer);
        var manifest = TestArtifacts.ImageManifest(config, [layer]);
        return (await StoreManifestAsync(repository, manifest, tags), manifest);
    }

    /// <summary>Uploads <see cref="GlibcArchive"/> as the administrator.</summary>
    public async Task ImportGlibcArchiveAsync()
    {
        using var admin = CreateAdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, ManagementClient.Prefix + "/scanning/database?source=debian")
        {
            Content = new ByteArrayContent(GlibcArchive),
        };
        request.Headers.Authorization = ManagementClient.BasicHeader(AdminName, AdminPassword);
        using var response = await admin.Http.SendAsync(request);
        await ManagementClient.AssertStatusAsync(response, HttpStatusCode.OK, "importing the glibc archive");
    }

    /// <summary>Sends a <c>/v2</c> request with HTTP basic credentials.</summary>
    public async Task<HttpResponseMessage> SendRegistryAsync(HttpMethod method, string path, string user, string password, HttpContent? content = null)
    {
        var client = CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = ManagementClient.BasicHeader(user, password);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.index.v1+json"));
        return await client.SendAsync(request);
    }

    /// <summary>Polls the scan of a manifest until it is no longer queued, and returns the document.</summary>
    public static async Task<JsonElement> WaitForScanAsync(ManagementClient client, string repositoryPath, string digest)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync($"/repositories/{repositoryPath}/manifests/{digest}/scan");
            var document = await ManagementClient.ReadJsonAsync(response);
            var status = document.GetProperty("status").GetString();
            if (status is "completed" or "partial" or "failed")
            {
                return document;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The scan of {digest} is still {status} after 60 s.");
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>A scanning host with scanning turned off.</summary>
public sealed class DisabledScanningFactory : ScanningFactory
{
    public DisabledScanningFactory()
        : base(new Dictionary<string, string?> { ["Registry:Scanning:Enabled"] = "false" })
    {
    }
}
