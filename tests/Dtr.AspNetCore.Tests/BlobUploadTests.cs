using System.Net;
using System.Net.Http.Headers;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class BlobUploadTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public BlobUploadTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task MonolithicPost_CreatesBlob()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(1000, 1);
        var digest = TestContent.Sha256(blob);

        using var response = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={digest}", Binary(blob));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.EndsWith($"/v2/{repository}/blobs/{digest}", response.Headers.Location?.ToString());
        Assert.Equal(digest, Header(response, ContentDigestHeader));
        Assert.Equal(blob, await DownloadAsync(repository, digest));
    }

    [Fact]
    public async Task PostThenPut_CreatesBlob()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(2000, 2);
        var digest = TestContent.Sha256(blob);

        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/");
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var location = post.Headers.Location?.ToString();
        Assert.NotNull(location);
        Assert.Contains($"/v2/{repository}/blobs/uploads/", location);
        Assert.False(string.IsNullOrEmpty(Header(post, "Docker-Upload-UUID")));

        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest), Binary(blob));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.EndsWith($"/v2/{repository}/blobs/{digest}", put.Headers.Location?.ToString());
        Assert.Equal(digest, Header(put, ContentDigestHeader));
        Assert.Equal(blob, await DownloadAsync(repository, digest));
    }

    [Fact]
    public async Task ChunkedPatch_ReportsRangeAndCompletes()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(30, 3);
        var digest = TestContent.Sha256(blob);
        var location = await _client.StartUploadAsync(repository);

        using var first = await PatchChunkAsync(location, blob, 0, 10);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("0-9", Header(first, "Range"));
        Assert.Contains($"/v2/{repository}/blobs/uploads/", first.Headers.Location?.ToString());
        Assert.False(string.IsNullOrEmpty(Header(first, "Docker-Upload-UUID")));
        location = first.Headers.Location!.ToString();

        using var status = await _client.GetAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        Assert.Equal("0-9", Header(status, "Range"));
        Assert.Contains($"/v2/{repository}/blobs/uploads/", status.Headers.Location?.ToString());

        using var second = await PatchChunkAsync(location, blob, 10, 20);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("0-29", Header(second, "Range"));

        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(second.Headers.Location!.ToString(), "digest=" + digest));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(digest, Header(put, ContentDigestHeader));
        Assert.Equal(blob, await DownloadAsync(repository, digest));
    }

    [Fact]
    public async Task ClosingPut_AppendsLastChunk()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(20, 4);
        var digest = TestContent.Sha256(blob);
        var location = await _client.StartUploadAsync(repository);

        using var patch = await PatchChunkAsync(location, blob, 0, 12);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);

        var last = Binary(blob[12..]);
        using var put = await _client.SendAsync(
            HttpMethod.Put,
            WithQuery(patch.Headers.Location!.ToString(), "digest=" + digest),
            last,
            [("Content-Range", "12-19")]);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(blob, await DownloadAsync(repository, digest));
    }

    [Theory]
    [InlineData("bytes 12-19/20")]
    [InlineData("bytes 12-19/*")]
    public async Task ClosingPut_AcceptsHttpContentRangeForm(string contentRange)
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(20, 6);
        var digest = TestContent.Sha256(blob);
        var location = await _client.StartUploadAsync(repository);

        using var patch = await PatchChunkAsync(location, blob, 0, 12);
        using var put = await _client.SendAsync(
            HttpMethod.Put,
            WithQuery(patch.Headers.Location!.ToString(), "digest=" + digest),
            Binary(blob[12..]),
            [("Content-Range", contentRange)]);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(blob, await DownloadAsync(repository, digest));
    }

    [Fact]
    public async Task StreamedPatch_WithoutRangeOrLength()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(300_000, 5);
        var digest = TestContent.Sha256(blob);
        var location = await _client.StartUploadAsync(repository);

        var content = new StreamContent(new UnknownLengthStream(blob));
        content.Headers.ContentType = new MediaTypeHeaderValue(OctetStream);
        var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var patch = await _client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        Assert.Equal($"0-{blob.Length - 1}", Header(patch, "Range"));

        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(patch.Headers.Location!.ToString(), "digest=" + digest));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(blob, await DownloadAsync(repository, digest));
    }

    [Fact]
    public async Task OutOfOrderChunk_Returns416AndKeepsData()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(30, 6);
        var location = await _client.StartUploadAsync(repository);
        using var first = await PatchChunkAsync(location, blob, 0, 10);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);

        using var skipped = await PatchChunkAsync(location, blob, 20, 10);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, skipped.StatusCode);
        Assert.Equal("0-9", Header(skipped, "Range"));
        Assert.Contains($"/v2/{repository}/blobs/uploads/", skipped.Headers.Location?.ToString());

        using var status = await _client.GetAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        Assert.Equal("0-9", Header(status, "Range"));

        // The upload still holds exactly the first chunk, so it closes with that chunk's digest.
        var firstChunkDigest = TestContent.Sha256(blob[..10]);
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + firstChunkDigest));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task RepeatedChunk_Returns416()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(20, 7);
        var location = await _client.StartUploadAsync(repository);
        using var first = await PatchChunkAsync(location, blob, 0, 10);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);

        using var again = await PatchChunkAsync(location, blob, 0, 10);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, again.StatusCode);
        using var status = await _client.GetAsync(location);
        Assert.Equal("0-9", Header(status, "Range"));
    }

    [Fact]
    public async Task WrongDigestOnPut_DiscardsUpload()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(100, 8);
        var wrongDigest = TestContent.Sha256(TestContent.RandomBytes(100, 9));
        var location = await _client.StartUploadAsync(repository);

        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + wrongDigest), Binary(blob));

        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using var status = await _client.GetAsync(location);
        await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var headWrong = await _client.HeadAsync($"/v2/{repository}/blobs/{wrongDigest}");
        Assert.Equal(HttpStatusCode.NotFound, headWrong.StatusCode);
        using var headActual = await _client.HeadAsync($"/v2/{repository}/blobs/{TestContent.Sha256(blob)}");
        Assert.Equal(HttpStatusCode.NotFound, headActual.StatusCode);
    }

    [Fact]
    public async Task WrongDigestOnMonolithicPost_StoresNothing()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(100, 10);
        var wrongDigest = TestContent.Sha256(TestContent.RandomBytes(100, 11));

        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={wrongDigest}", Binary(blob));

        await AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{TestContent.Sha256(blob)}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Theory]
    [InlineData("sha256:zz")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8")]
    public async Task InvalidDigestSyntax_Returns400(string digest)
    {
        var repository = TestContent.UniqueRepository();

        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={Uri.EscapeDataString(digest)}", Binary([]));
        await AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        var location = await _client.StartUploadAsync(repository);
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + Uri.EscapeDataString(digest)), Binary([]));
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task PutWithoutDigest_Returns400()
    {
        var repository = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(repository);

        using var put = await _client.SendAsync(HttpMethod.Put, location, Binary([1, 2, 3]));

        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task DeleteUpload_Returns204ThenUnknown()
    {
        var repository = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(repository);
        using var patch = await PatchChunkAsync(location, TestContent.RandomBytes(10, 12), 0, 10);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);

        using var delete = await _client.DeleteAsync(location);

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var status = await _client.GetAsync(location);
        await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var deleteAgain = await _client.DeleteAsync(location);
        await AssertErrorAsync(deleteAgain, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task UnknownUploadId_Returns404()
    {
        var repository = TestContent.UniqueRepository();
        var url = $"/v2/{repository}/blobs/uploads/{Guid.NewGuid():N}";
        var digest = TestContent.Sha256([1]);

        using var get = await _client.GetAsync(url);
        using var patch = await _client.SendAsync(HttpMethod.Patch, url, Binary([1]));
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(url, "digest=" + digest), Binary([1]));
        using var delete = await _client.DeleteAsync(url);

        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await AssertErrorAsync(delete, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task UploadIdOfOtherRepository_Returns404()
    {
        var owner = TestContent.UniqueRepository();
        var other = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(owner);
        var uploadId = location[(location.LastIndexOf('/') + 1)..];
        var blob = TestContent.RandomBytes(10, 13);

        using var get = await _client.GetAsync($"/v2/{other}/blobs/uploads/{uploadId}");
        using var put = await _client.SendAsync(HttpMethod.Put, $"/v2/{other}/blobs/uploads/{uploadId}?digest={TestContent.Sha256(blob)}", Binary(blob));
        using var delete = await _client.DeleteAsync($"/v2/{other}/blobs/uploads/{uploadId}");

        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        await AssertErrorAsync(delete, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var ownerStatus = await _client.GetAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, ownerStatus.StatusCode);
        using var otherHead = await _client.HeadAsync($"/v2/{other}/blobs/{TestContent.Sha256(blob)}");
        Assert.Equal(HttpStatusCode.NotFound, otherHead.StatusCode);
    }

    [Fact]
    public async Task Sha512Digest_MonolithicAndChunked()
    {
        var repository = TestContent.UniqueRepository();
        var monolithic = TestContent.RandomBytes(500, 14);
        var chunked = TestContent.RandomBytes(500, 15);
        var monolithicDigest = TestContent.Sha512(monolithic);
        var chunkedDigest = TestContent.Sha512(chunked);

        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={monolithicDigest}", Binary(monolithic));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.Equal(monolithicDigest, Header(post, ContentDigestHeader));

        var location = await _client.StartUploadAsync(repository);
        using var patch = await PatchChunkAsync(location, chunked, 0, 200);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using var put = await _client.SendAsync(
            HttpMethod.Put,
            WithQuery(location, "digest=" + chunkedDigest),
            Binary(chunked[200..]),
            [("Content-Range", "200-499")]);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{monolithicDigest}");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(monolithicDigest, Header(head, ContentDigestHeader));
        Assert.Equal(chunked, await DownloadAsync(repository, chunkedDigest));
    }

    [Fact]
    public async Task Sha512Mismatch_Returns400()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(50, 16);
        var wrong = TestContent.Sha512(TestContent.RandomBytes(50, 17));

        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={wrong}", Binary(blob));

        await AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task EmptyBlob_UploadsAndDownloads()
    {
        var repository = TestContent.UniqueRepository();

        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={TestContent.EmptySha256}", Binary([]));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);

        var location = await _client.StartUploadAsync(TestContent.UniqueRepository());
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + TestContent.EmptySha256));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{TestContent.EmptySha256}");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(0, head.Content.Headers.ContentLength);
        Assert.Empty(await DownloadAsync(repository, TestContent.EmptySha256));
    }

    [Fact]
    public async Task ChunkWithMismatchedLength_Rejected()
    {
        var repository = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(repository);

        // Content-Range promises 20 bytes but the body has 10.
        using var patch = await _client.SendAsync(HttpMethod.Patch, location, Binary(TestContent.RandomBytes(10, 18)), [("Content-Range", "0-19")]);

        Assert.True((int)patch.StatusCode is 400 or 416, $"Expected 400 or 416, got {await DescribeAsync(patch)}");
        Assert.NotEqual(default, await ReadFirstErrorAsync(patch));

        // Nothing was appended, so the upload closes as the empty blob.
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + TestContent.EmptySha256));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    private Task<HttpResponseMessage> PatchChunkAsync(string location, byte[] blob, int offset, int length)
    {
        var chunk = Binary(blob[offset..(offset + length)]);
        return _client.SendAsync(HttpMethod.Patch, location, chunk, [("Content-Range", $"{offset}-{offset + length - 1}")]);
    }

    private async Task<byte[]> DownloadAsync(string repository, string digest)
    {
        using var response = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET blob {digest} returned {await DescribeAsync(response)}");
        return await response.Content.ReadAsByteArrayAsync();
    }
}

/// <summary>A read-only stream that hides its length, so HTTP clients must send it with chunked transfer encoding.</summary>
internal sealed class UnknownLengthStream(byte[] content) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        // Small reads make the client send several chunks.
        var read = Math.Min(Math.Min(count, 8192), content.Length - _position);
        Array.Copy(content, _position, buffer, offset, read);
        _position += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
