using System.Net;
using System.Text.Json;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class TagListTests : IClassFixture<RegistryFactory>, IDisposable
{
    private static readonly string[] SortedTags = ["1.0", "alpha", "beta", "gamma", "v1", "v10", "v2"];

    private readonly RegistryClient _client;

    public TagListTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Tags_InLexicalOrder()
    {
        var repository = await PushTagsAsync(["v2", "beta", "v10", "1.0", "alpha", "v1", "gamma"]);

        using var response = await _client.GetAsync($"/v2/{repository}/tags/list");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var (name, tags) = await ReadTagsAsync(response);
        Assert.Equal(repository, name);
        Assert.Equal(SortedTags, tags);
        Assert.Null(Header(response, "Link"));
    }

    [Fact]
    public async Task Tags_CaseInsensitiveLexicalOrder()
    {
        // The distribution specification defines lexical order as case-insensitive alphanumeric order.
        var repository = await PushTagsAsync(["Beta", "alpha", "Gamma", "delta"]);

        Assert.Equal(["alpha", "Beta", "delta", "Gamma"], await _client.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Tags_PageWithNAndLast()
    {
        var repository = await PushTagsAsync(SortedTags);

        using var first = await _client.GetAsync($"/v2/{repository}/tags/list?n=2");
        using var afterBeta = await _client.GetAsync($"/v2/{repository}/tags/list?n=3&last=beta");
        using var afterMissing = await _client.GetAsync($"/v2/{repository}/tags/list?n=2&last=b");
        using var lastOnly = await _client.GetAsync($"/v2/{repository}/tags/list?last=v1");

        Assert.Equal(["1.0", "alpha"], (await ReadTagsAsync(first)).Tags);
        Assert.NotNull(Header(first, "Link"));
        Assert.Equal(["gamma", "v1", "v10"], (await ReadTagsAsync(afterBeta)).Tags);
        Assert.Equal(["beta", "gamma"], (await ReadTagsAsync(afterMissing)).Tags);
        Assert.Equal(["v10", "v2"], (await ReadTagsAsync(lastOnly)).Tags);
    }

    [Fact]
    public async Task Tags_LinkHeaderFormat()
    {
        var repository = await PushTagsAsync(SortedTags);

        using var response = await _client.GetAsync($"/v2/{repository}/tags/list?n=2");

        var link = Header(response, "Link");
        Assert.NotNull(link);
        Assert.Matches("^<[^>]+>; *rel=\"next\"$", link);
        var target = ParseNextLink(link);
        Assert.Contains($"/v2/{repository}/tags/list?", target);
        Assert.Contains("n=2", target);
        Assert.Contains("last=alpha", target);
    }

    [Fact]
    public async Task Tags_NoLinkOnFinalPage()
    {
        var repository = await PushTagsAsync(SortedTags);

        using var exact = await _client.GetAsync($"/v2/{repository}/tags/list?n=7");
        using var larger = await _client.GetAsync($"/v2/{repository}/tags/list?n=100");
        using var tail = await _client.GetAsync($"/v2/{repository}/tags/list?n=2&last=v1");

        Assert.Equal(SortedTags, (await ReadTagsAsync(exact)).Tags);
        Assert.Null(Header(exact, "Link"));
        Assert.Null(Header(larger, "Link"));
        Assert.Equal(["v10", "v2"], (await ReadTagsAsync(tail)).Tags);
        Assert.Null(Header(tail, "Link"));
    }

    [Fact]
    public async Task Tags_FollowingLinksReturnsEachOnce()
    {
        var repository = await PushTagsAsync(SortedTags);
        var collected = new List<string>();
        var url = $"/v2/{repository}/tags/list?n=3";
        var pages = 0;

        while (url is not null && pages < 10)
        {
            using var response = await _client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var tags = (await ReadTagsAsync(response)).Tags;
            Assert.InRange(tags.Count, 1, 3);
            collected.AddRange(tags);
            var link = Header(response, "Link");
            url = link is null ? null : ParseNextLink(link);
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(SortedTags, collected);
    }

    [Fact]
    public async Task Tags_NZeroReturnsEmptyList()
    {
        var repository = await PushTagsAsync(SortedTags);

        using var response = await _client.GetAsync($"/v2/{repository}/tags/list?n=0");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await ReadTagsAsync(response)).Tags);
        Assert.Null(Header(response, "Link"));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public async Task Tags_InvalidN_Returns400(string n)
    {
        var repository = await PushTagsAsync(["v1"]);

        using var response = await _client.GetAsync($"/v2/{repository}/tags/list?n={n}");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task Tags_UnknownRepository_Returns404()
    {
        using var response = await _client.GetAsync($"/v2/{TestContent.UniqueRepository()}/tags/list");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Tags_RepositoryWithoutTags_ReturnsEmptyList()
    {
        var repository = TestContent.UniqueRepository();
        await _client.PushBlobAsync(repository, TestContent.RandomBytes(8, 1));

        using var response = await _client.GetAsync($"/v2/{repository}/tags/list");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await ReadTagsAsync(response)).Tags);
    }

    private async Task<string> PushTagsAsync(IEnumerable<string> tags)
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, tags.First());
        foreach (var tag in tags.Skip(1))
        {
            await _client.PushManifestAsync(repository, tag, manifest.Bytes, manifest.MediaType);
        }

        return repository;
    }

    private static async Task<(string Name, List<string> Tags)> ReadTagsAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await DescribeAsync(response));
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        var tags = document.RootElement.GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()!).ToList();
        return (document.RootElement.GetProperty("name").GetString()!, tags);
    }

    /// <summary>Returns the URL inside the angle brackets of a <c>Link: &lt;url&gt;; rel="next"</c> header.</summary>
    internal static string ParseNextLink(string link)
    {
        var start = link.IndexOf('<', StringComparison.Ordinal);
        var end = link.IndexOf('>', StringComparison.Ordinal);
        Assert.True(start >= 0, $"The Link header '{link}' has no '<'.");
        Assert.True(end > start, $"The Link header '{link}' has no '>' after its '<'.");
        Assert.Contains("rel=\"next\"", link);
        return link[(start + 1)..end];
    }
}

public sealed class CatalogTests
{
    // Catalog tests need a registry of their own: repositories of other tests would show up in the listing.
    private static readonly string[] SortedRepositories = ["a", "a/b", "b", "b/a/c", "c", "library/ubuntu", "z"];

    [Fact]
    public async Task Catalog_ListsRepositoriesInOrder()
    {
        using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();
        await CreateRepositoriesAsync(client);

        using var response = await client.GetAsync("/v2/_catalog");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SortedRepositories, await ReadRepositoriesAsync(response));
        Assert.Null(Header(response, "Link"));
    }

    [Fact]
    public async Task Catalog_EmptyRegistry_ReturnsEmptyList()
    {
        using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();

        using var response = await client.GetAsync("/v2/_catalog");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await ReadRepositoriesAsync(response));
    }

    [Fact]
    public async Task Catalog_PagesWithNLastAndLink()
    {
        using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();
        await CreateRepositoriesAsync(client);

        using var first = await client.GetAsync("/v2/_catalog?n=2");
        using var afterMissing = await client.GetAsync("/v2/_catalog?n=2&last=aa");
        using var zero = await client.GetAsync("/v2/_catalog?n=0");
        using var invalid = await client.GetAsync("/v2/_catalog?n=abc");

        Assert.Equal(["a", "a/b"], await ReadRepositoriesAsync(first));
        Assert.NotNull(Header(first, "Link"));
        Assert.Equal(["b", "b/a/c"], await ReadRepositoriesAsync(afterMissing));
        Assert.Empty(await ReadRepositoriesAsync(zero));
        Assert.Null(Header(zero, "Link"));
        await AssertErrorAsync(invalid, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task Catalog_FollowingLinksReturnsEachOnce()
    {
        using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();
        await CreateRepositoriesAsync(client);
        var collected = new List<string>();
        var url = "/v2/_catalog?n=3";
        var pages = 0;

        while (url is not null && pages < 10)
        {
            using var response = await client.GetAsync(url);
            collected.AddRange(await ReadRepositoriesAsync(response));
            var link = Header(response, "Link");
            url = link is null ? null : TagListTests.ParseNextLink(link);
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(SortedRepositories, collected);
    }

    private static async Task CreateRepositoriesAsync(RegistryClient client)
    {
        var seed = 0;
        foreach (var repository in SortedRepositories.Reverse())
        {
            await client.PushBlobAsync(repository, TestContent.RandomBytes(8, seed++));
        }
    }

    private static async Task<List<string>> ReadRepositoriesAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await DescribeAsync(response));
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return document.RootElement.GetProperty("repositories").EnumerateArray().Select(name => name.GetString()!).ToList();
    }
}
