using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Benchmarks;

/// <summary>
/// Lists tags and reads manifests through the SQLite <see cref="IMetadataStore"/> of the embedded default, in a
/// repository with <see cref="TagCount"/> tags.
/// </summary>
/// <remarks>
/// The setup pushes one small OCI image manifest per tag, each with its own digest and the same linked config and
/// layer. The first-page benchmark reads 101 rows, as the tags endpoint does for <c>?n=100</c>, because the extra row
/// shows whether a next page exists. The full listing follows the pages of the default page size of 1,000, as a
/// client that follows the <c>Link</c> header does. The manifest benchmarks read the bytes and media type of the
/// manifest of the middle tag, which is the store's part of a GET manifest. Every invocation opens its SQLite
/// connection as the store does per call, and none includes HTTP or the pull-policy check.
/// </remarks>
[MemoryDiagnoser]
public class TagListingBenchmarks
{
    private const int FirstPageSize = 100;
    private const int DefaultPageSize = 1000;

    private static readonly RepositoryName Repository = RepositoryName.Parse("bench/tags");

    private string _root = "";
    private ServiceProvider _services = null!;
    private IMetadataStore _store = null!;
    private ManifestReference _tagReference;
    private ManifestReference _digestReference;

    /// <summary>The number of tags in the repository.</summary>
    [Params(10, 1_000, 10_000)]
    public int TagCount { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Description = "list tags, first page of 100")]
    public async Task<int> ListFirstPage()
    {
        var tags = await _store.ListTagsAsync(Repository, null, FirstPageSize + 1) ?? throw RepositoryMissing();
        return tags.Count;
    }

    [Benchmark(Description = "list all tags in pages of 1,000")]
    public async Task<int> ListAllTags()
    {
        var count = 0;
        string? last = null;
        while (true)
        {
            var page = await _store.ListTagsAsync(Repository, last, DefaultPageSize + 1) ?? throw RepositoryMissing();
            if (page.Count <= DefaultPageSize)
            {
                count += page.Count;
                break;
            }

            count += DefaultPageSize;
            last = page[DefaultPageSize - 1];
        }

        if (count != TagCount)
        {
            throw new InvalidOperationException($"The listing returned {count} tags, expected {TagCount}.");
        }

        return count;
    }

    [Benchmark(Description = "get manifest by tag")]
    public async Task<int> GetManifestByTag()
    {
        var manifest = await _store.GetManifestAsync(Repository, _tagReference) ?? throw new InvalidOperationException($"The manifest of tag {_tagReference} is missing.");
        return manifest.Content.Length;
    }

    [Benchmark(Description = "get manifest by digest")]
    public async Task<int> GetManifestByDigest()
    {
        var manifest = await _store.GetManifestAsync(Repository, _digestReference) ?? throw new InvalidOperationException($"The manifest {_digestReference} is missing.");
        return manifest.Content.Length;
    }

    private async Task SetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "dtr-tags-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddDockerRegistry(options => options.DataDirectory = _root);
        _services = services.BuildServiceProvider();
        _store = _services.GetRequiredService<IMetadataStore>();
        await _store.MigrateAsync();

        // The metadata store checks only that referenced blobs are linked, so the blobs themselves are not written.
        var config = Digest.Compute(Encoding.UTF8.GetBytes("benchmark config"));
        var layer = Digest.Compute(Encoding.UTF8.GetBytes("benchmark layer"));
        await _store.LinkBlobAsync(Repository, config, 1_469);
        await _store.LinkBlobAsync(Repository, layer, 29_150_000);

        var stopwatch = Stopwatch.StartNew();
        var middle = TagCount / 2;
        for (var i = 0; i < TagCount; i++)
        {
            var tag = TagName(i);
            var content = Encoding.UTF8.GetBytes(
                $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","config":{"mediaType":"{{{MediaTypes.OciConfig}}}","digest":"{{{config}}}","size":1469},"layers":[{"mediaType":"{{{MediaTypes.OciLayerGzip}}}","digest":"{{{layer}}}","size":29150000}],"annotations":{"org.opencontainers.image.version":"{{{tag}}}"}}""");
            var digest = Digest.Compute(content);
            var result = await _store.PutManifestAsync(new ManifestWrite
            {
                Repository = Repository,
                Digest = digest,
                Content = content,
                Manifest = ManifestParser.Parse(content, MediaTypes.OciManifest),
                Tags = [tag],
            });
            if (!result.Stored)
            {
                throw new InvalidOperationException($"The manifest for tag {tag} was not stored.");
            }

            if (i == middle)
            {
                _tagReference = ManifestReference.ForTag(tag);
                _digestReference = ManifestReference.ForDigest(digest);
            }
        }

        Console.WriteLine($"// Seeded {TagCount} tags in {stopwatch.Elapsed.TotalSeconds:F1} s");
    }

    // Version-like tags, such as 1.42.7-build1427 for index 1427, so that sorting compares multi-part names.
    private static string TagName(int index) => $"{index / 1000}.{index / 10 % 100}.{index % 10}-build{index}";

    private static InvalidOperationException RepositoryMissing() => new($"The repository {Repository} is missing.");
}
