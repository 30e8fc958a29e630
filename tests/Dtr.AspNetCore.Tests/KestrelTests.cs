using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

/// <summary>Uploads over a real Kestrel server, where the default 30 MB body limit and chunked encoding apply.</summary>
public sealed class KestrelTests : IClassFixture<KestrelRegistryFactory>, IDisposable
{
    private const long LargeBlobBytes = 40L * 1024 * 1024;

    private readonly RegistryClient _client;

    public KestrelTests(KestrelRegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public void Server_ListensOnLoopback()
    {
        Assert.Equal("127.0.0.1", _client.Http.BaseAddress?.Host);
    }

    [Fact]
    public async Task LargeBlob_UploadsInOnePut()
    {
        var repository = TestContent.UniqueRepository();
        var digest = PatternStream.ComputeSha256(LargeBlobBytes);
        var location = await _client.StartUploadAsync(repository);

        var content = new StreamContent(new PatternStream(LargeBlobBytes));
        content.Headers.ContentType = new MediaTypeHeaderValue(OctetStream);
        content.Headers.ContentLength = LargeBlobBytes;
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest), content);

        Assert.True(put.StatusCode == HttpStatusCode.Created, await DescribeAsync(put));
        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(LargeBlobBytes, head.Content.Headers.ContentLength);
        using var tail = await _client.GetAsync($"/v2/{repository}/blobs/{digest}", ("Range", "bytes=-16"));
        Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
        Assert.Equal(PatternStream.Slice(LargeBlobBytes - 16, 16), await tail.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task LargeBlob_MonolithicPost()
    {
        var repository = TestContent.UniqueRepository();
        var digest = PatternStream.ComputeSha256(LargeBlobBytes);

        var content = new StreamContent(new PatternStream(LargeBlobBytes));
        content.Headers.ContentType = new MediaTypeHeaderValue(OctetStream);
        content.Headers.ContentLength = LargeBlobBytes;
        using var post = await _client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={digest}", content);

        Assert.True(post.StatusCode == HttpStatusCode.Created, await DescribeAsync(post));
    }

    [Fact]
    public async Task ChunkedTransferPatch_Appends()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(2_000_000, 1);
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
        using var get = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(blob, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ApiVersionHeader_OnKestrelErrors()
    {
        using var notFound = await _client.GetAsync($"/v2/{TestContent.UniqueRepository()}/blobs/{TestContent.EmptySha256}");
        using var notAllowed = await _client.SendAsync(HttpMethod.Patch, "/v2/");

        Assert.Equal("registry/2.0", Header(notFound, ApiVersionHeader));
        Assert.Equal("registry/2.0", Header(notAllowed, ApiVersionHeader));
    }
}

/// <summary>
/// A read-only stream of a fixed length whose byte at offset i is a function of i, so large bodies need no array.
/// </summary>
internal sealed class PatternStream(long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public static byte ByteAt(long offset) => (byte)((offset * 31) ^ (offset >> 11));

    public static byte[] Slice(long offset, int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = ByteAt(offset + i);
        }

        return bytes;
    }

    public static string ComputeSha256(long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var stream = new PatternStream(length);
        var buffer = new byte[1024 * 1024];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = (int)Math.Min(count, length - _position);
        for (var i = 0; i < read; i++)
        {
            buffer[offset + i] = ByteAt(_position + i);
        }

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
