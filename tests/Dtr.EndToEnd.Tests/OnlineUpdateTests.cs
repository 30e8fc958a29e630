using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Points a host that requires signatures at a loopback HTTP server started by the test, which serves the advisory
/// archive with an <c>ETag</c> and its detached signature at <c>URL.sig</c>. The host must import the archive,
/// scan an image against it, and send the <c>ETag</c> back as <c>If-None-Match</c> on the next update.
/// </summary>
public sealed class OnlineUpdateTests
{
    private const string ArchivePath = "/osv/all.zip";
    private const string ArchiveETag = "\"osv-e2e-1\"";

    [Fact]
    public async Task OnlineUpdate_ImportsSignedArchiveWithETag()
    {
        using var keys = new TemporaryDirectory("dtr-e2e-online-keys-");
        var signingKey = await OpenSslSigningKey.CreateAsync(keys.Path, "feed");
        var archive = OsvArchives.Zip(OsvArchives.Records());
        using var server = ArchiveServer.Start(archive, await signingKey.SignAsync(archive));
        var archiveUrl = server.BaseUrl + ArchivePath.TrimStart('/');

        await using var host = await ScanningHost.StartAsync(
            $"--Registry:Scanning:PublicKeyFile={signingKey.PublicKeyPath}",
            $"--Registry:Scanning:DatabaseUrls:0={archiveUrl}",
            "--Registry:Scanning:UpdateInterval=1.00:00:00");
        using var admin = host.AdminApi();

        // 1. Start an update now (the host may also have started one itself) and wait until the archive is imported.
        (await admin.StartDatabaseUpdateAsync()).AssertStatus(HttpStatusCode.Accepted, host.DescribeRegistry);
        // The import commits the records first and the online status after it, so wait for both.
        var database = await WaitForDatabaseAsync(
            admin, host, d => d["recordCount"]?.GetValue<int>() >= 4 && d["online"]?["lastSuccessAt"] is not null);
        var online = database["online"]!;
        Assert.Contains(archiveUrl, online["urls"]!.AsArray().Select(u => u?.GetValue<string>()));
        Assert.True(online["lastSuccessAt"] is not null, $"online.lastSuccessAt is null after an import: {database.ToJsonString()}");
        var source = database["sources"]!.AsArray().FirstOrDefault(s => s?["etag"]?.GetValue<string>() == ArchiveETag);
        Assert.True(source is not null, $"No source records the archive's ETag {ArchiveETag}: {database.ToJsonString()}");
        Assert.True(source["signatureVerified"]?.GetValue<bool>() == true, $"The downloaded archive's signature is not marked verified: {source.ToJsonString()}");
        Assert.Contains(server.Requests, r => r.Path == ArchivePath + ".sig");

        // 2. The imported records are used for scans.
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteAlpineLayout(work.Path, "3.18");
        var repository = await host.CreateRepositoryAsync("online", scanOnPush: true);
        await host.PushAsync(work.Path, "3.18", repository, "3.18");
        var scan = await admin.WaitForScanAsync(repository, image.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        Assert.NotEmpty(ScanningApiClient.Findings(scan, OsvArchives.BusyboxId));

        // 3. The next update sends the ETag back, gets 304 Not Modified and keeps the database as it is.
        var version = database["version"]!.GetValue<long>();
        (await admin.StartDatabaseUpdateAsync()).AssertStatus(HttpStatusCode.Accepted, host.DescribeRegistry);
        await WaitUntilAsync(
            () => server.Requests.Any(r => r.Path == ArchivePath && r.IfNoneMatch == ArchiveETag),
            $"The host did not request {ArchivePath} with If-None-Match: {ArchiveETag}. Requests: {server.DescribeRequests()}\n{host.DescribeRegistry()}");
        var unchanged = await WaitForDatabaseAsync(admin, host, d => d["online"]?["lastError"] is null && d["online"]?["lastAttemptAt"] is not null);
        Assert.Equal(version, unchanged["version"]?.GetValue<long>());
    }

    private static async Task<JsonNode> WaitForDatabaseAsync(ScanningApiClient admin, ScanningHost host, Func<JsonNode, bool> condition)
    {
        JsonNode? last = null;
        await WaitUntilAsync(
            async () =>
            {
                last = (await admin.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, host.DescribeRegistry);
                return condition(last);
            },
            () => $"The database did not reach the expected state. Last state: {last?.ToJsonString()}\n{host.DescribeRegistry()}");
        return last!;
    }

    private static Task WaitUntilAsync(Func<bool> condition, string failure) =>
        WaitUntilAsync(() => Task.FromResult(condition()), () => failure);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> describeFailure)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ScanningRegistryFixture.ScanTimeout)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Timed out after {ScanningRegistryFixture.ScanTimeout.TotalSeconds:F0} s. {describeFailure()}");
    }

    /// <summary>A request the archive server received.</summary>
    private sealed record ServedRequest(string Path, string? IfNoneMatch, int Status);

    /// <summary>
    /// An HTTP server on a free loopback port that serves the archive at <see cref="ArchivePath"/> with a fixed
    /// <c>ETag</c> (or 304 Not Modified when <c>If-None-Match</c> matches it), and the signature at the same path plus <c>.sig</c>.
    /// </summary>
    private sealed class ArchiveServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly byte[] _archive;
        private readonly byte[] _signature;
        private readonly Task _loop;

        private ArchiveServer(int port, byte[] archive, byte[] signature)
        {
            _archive = archive;
            _signature = signature;
            BaseUrl = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(BaseUrl);
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public string BaseUrl { get; }

        public ConcurrentQueue<ServedRequest> Requests { get; } = new();

        public static ArchiveServer Start(byte[] archive, byte[] signature) => new(FindFreePort(), archive, signature);

        public string DescribeRequests() =>
            string.Join("; ", Requests.Select(r => $"{r.Path} (If-None-Match: {r.IfNoneMatch ?? "none"}) -> {r.Status}"));

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();

            // The loop ends when the listener stops. Waiting for it makes sure that no request is served after the test.
            _loop.Wait(TimeSpan.FromSeconds(10));
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                Serve(context);
            }
        }

        private void Serve(HttpListenerContext context)
        {
            var path = context.Request.Url?.AbsolutePath ?? "";
            var ifNoneMatch = context.Request.Headers["If-None-Match"];
            var response = context.Response;
            byte[]? body = null;
            if (path == ArchivePath && ifNoneMatch == ArchiveETag)
            {
                response.StatusCode = 304;
                response.AddHeader("ETag", ArchiveETag);
            }
            else if (path == ArchivePath)
            {
                response.StatusCode = 200;
                response.ContentType = "application/zip";
                response.AddHeader("ETag", ArchiveETag);
                body = _archive;
            }
            else if (path == ArchivePath + ".sig")
            {
                response.StatusCode = 200;
                response.ContentType = "application/octet-stream";
                body = _signature;
            }
            else
            {
                response.StatusCode = 404;
            }

            Requests.Enqueue(new ServedRequest(path, ifNoneMatch, response.StatusCode));
            if (body is not null && context.Request.HttpMethod != "HEAD")
            {
                response.ContentLength64 = body.Length;
                response.OutputStream.Write(body);
            }

            response.Close();
        }

        private static int FindFreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
