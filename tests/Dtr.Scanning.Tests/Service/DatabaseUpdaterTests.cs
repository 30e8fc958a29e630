using System.Security.Cryptography;
using Dtr.Scanning.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Scanning.Tests.Service;

public sealed class DatabaseUpdaterTests : IAsyncLifetime
{
    private readonly ArchiveServer _server = new();

    public Task InitializeAsync() => _server.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Update_SecondRun_GetsNotModified()
    {
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));
        await using var host = await StartHostAsync();
        var updater = host.Get<DatabaseUpdater>();

        Assert.True(await updater.RunOnceAsync(CancellationToken.None));
        Assert.True(await updater.RunOnceAsync(CancellationToken.None));

        var database = await host.Store.GetVulnerabilityDatabaseAsync();
        Assert.Equal(1, database.Version);
        var source = Assert.Single(database.Sources);
        Assert.Equal(_server.ArchiveUrl.ToString(), source.Name);
        Assert.Equal(ArchiveServer.ETag, source.ETag);
        Assert.Equal(1, source.RecordCount);
        Assert.Equal(["200", "304"], _server.Responses);
        Assert.Equal(ArchiveServer.ETag, _server.LastIfNoneMatch);
        Assert.Null(updater.Status.LastError);
        Assert.NotNull(updater.Status.LastSuccessAt);
    }

    [Fact]
    public async Task Update_UrlWithCredentials_Redacted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));
        _server.FailuresBeforeSuccess = 1;
        var url = new Uri($"http://reader:secret@127.0.0.1:{_server.ArchiveUrl.Port}/osv.zip?token=abc123&flag");
        var logs = new LogCollector();
        await using var host = await ScanningTestHost.StartAsync(
            options =>
            {
                options.DatabaseUrls.Add(url);
                options.PublicKeyPem = key.ExportSubjectPublicKeyInfoPem();
            },
            services: collection => collection.AddSingleton<ILoggerProvider>(logs));
        var updater = host.Get<DatabaseUpdater>();
        updater.RetryDelay = TimeSpan.FromMilliseconds(20);

        // The first run fails for the missing signature; the second imports a signed archive.
        await updater.RunOnceAsync(CancellationToken.None);
        var error = updater.Status.LastError;
        _server.Signature = TestArtifacts.SignDer(key, _server.Archive);
        await updater.RunOnceAsync(CancellationToken.None);
        await updater.RunOnceAsync(CancellationToken.None);

        var redacted = $"http://127.0.0.1:{_server.ArchiveUrl.Port}/osv.zip?token=…&…";
        var source = Assert.Single((await host.Store.GetVulnerabilityDatabaseAsync()).Sources);
        Assert.Equal(redacted, source.Name);
        Assert.Equal(["500", "200", "200", "304"], _server.Responses);
        Assert.StartsWith(redacted, error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", error, StringComparison.Ordinal);
        Assert.NotEmpty(logs.Messages);
        Assert.Contains(logs.Messages, message => message.Contains(redacted, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, message => message.Contains("secret", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, message => message.Contains("abc123", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_ServerError_Retried()
    {
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));
        _server.FailuresBeforeSuccess = 1;
        await using var host = await StartHostAsync();

        await host.Get<DatabaseUpdater>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(["500", "200"], _server.Responses);
        Assert.Equal(1, (await host.Store.GetVulnerabilityDatabaseAsync()).Version);
    }

    [Fact]
    public async Task Update_PersistentError_KeepsDatabase()
    {
        _server.FailuresBeforeSuccess = int.MaxValue;
        await using var host = await StartHostAsync();
        var updater = host.Get<DatabaseUpdater>();

        await updater.RunOnceAsync(CancellationToken.None);

        Assert.Equal(4, _server.Responses.Count);
        Assert.Equal(0, (await host.Store.GetVulnerabilityDatabaseAsync()).Version);
        Assert.Contains("500", updater.Status.LastError, StringComparison.Ordinal);
        Assert.Null(updater.Status.LastSuccessAt);
    }

    [Fact]
    public async Task Update_BadSignature_KeepsPreviousDatabase()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));
        _server.Signature = TestArtifacts.SignDer(key, _server.Archive);
        await using var host = await StartHostAsync(options => options.PublicKeyPem = key.ExportSubjectPublicKeyInfoPem());
        var updater = host.Get<DatabaseUpdater>();
        await updater.RunOnceAsync(CancellationToken.None);
        var first = await host.Store.GetVulnerabilityDatabaseAsync();
        Assert.True(Assert.Single(first.Sources).SignatureVerified);

        // A new archive arrives with the old archive's signature.
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"), TestArtifacts.GlibcRecord("CVE-2024-2961", "2.36-9+deb12u7"));
        _server.ETagValue = "\"second\"";
        await updater.RunOnceAsync(CancellationToken.None);

        var second = await host.Store.GetVulnerabilityDatabaseAsync();
        Assert.Equal(first.Version, second.Version);
        Assert.Equal(1, second.RecordCount);
        Assert.StartsWith($"{_server.ArchiveUrl}: signature invalid", updater.Status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_MissingSignature_Rejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));
        await using var host = await StartHostAsync(options => options.PublicKeyPem = key.ExportSubjectPublicKeyInfoPem());
        var updater = host.Get<DatabaseUpdater>();

        await updater.RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, (await host.Store.GetVulnerabilityDatabaseAsync()).Version);
        Assert.Contains("signature required", updater.Status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_OverSizeLimit_Rejected()
    {
        _server.Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));
        await using var host = await StartHostAsync(options => options.MaxArchiveBytes = 1024);
        _server.Archive = new byte[4096];
        var updater = host.Get<DatabaseUpdater>();

        await updater.RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, (await host.Store.GetVulnerabilityDatabaseAsync()).Version);
        Assert.Contains("MaxArchiveBytes", updater.Status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignatureUrl_MappedOrDefault()
    {
        var mirror = new Uri("http://127.0.0.1:9/signatures/osv.sig");
        await using var host = await StartHostAsync(options => options.SignatureUrls["1"] = mirror);
        var updater = host.Get<DatabaseUpdater>();

        Assert.Equal(new Uri(_server.ArchiveUrl + ".sig"), updater.SignatureUrlOf(0, _server.ArchiveUrl));
        Assert.Equal(mirror, updater.SignatureUrlOf(1, new Uri("http://127.0.0.1:9/other.zip")));
    }

    private async Task<ScanningTestHost> StartHostAsync(Action<ScanningOptions>? configure = null)
    {
        var host = await ScanningTestHost.StartAsync(options =>
        {
            options.DatabaseUrls.Add(_server.ArchiveUrl);
            configure?.Invoke(options);
        });

        // Retries keep their count and backoff, with delays short enough for a test.
        host.Get<DatabaseUpdater>().RetryDelay = TimeSpan.FromMilliseconds(20);
        return host;
    }

    /// <summary>Collects every log message, with its exception's message, of every category.</summary>
    private sealed class LogCollector : ILoggerProvider, ILogger
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return _messages.ToList();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add($"{formatter(state, exception)} {exception?.Message}");
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// Serves one archive at <c>/osv.zip</c> and its signature at <c>/osv.zip.sig</c> from Kestrel on a loopback port,
    /// with an ETag, returning 304 for a matching If-None-Match, and failing the first requests when configured to.
    /// </summary>
    private sealed class ArchiveServer : IAsyncDisposable
    {
        public const string ETag = "\"first\"";

        private WebApplication? _app;

        public byte[] Archive { get; set; } = [];

        public byte[]? Signature { get; set; }

        public string ETagValue { get; set; } = ETag;

        public int FailuresBeforeSuccess { get; set; }

        public List<string> Responses { get; } = [];

        public string? LastIfNoneMatch { get; private set; }

        public Uri ArchiveUrl { get; private set; } = null!;

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.MapGet("/osv.zip", ServeArchive);
            _app.MapGet("/osv.zip.sig", () => Signature is null ? Results.NotFound() : Results.Bytes(Signature, "application/octet-stream"));
            await _app.StartAsync();
            var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            ArchiveUrl = new Uri(new Uri(address), "/osv.zip");
        }

        private IResult ServeArchive(HttpContext context)
        {
            lock (Responses)
            {
                LastIfNoneMatch = context.Request.Headers.IfNoneMatch.ToString();
                if (FailuresBeforeSuccess > 0)
                {
                    FailuresBeforeSuccess--;
                    Responses.Add("500");
                    return Results.StatusCode(StatusCodes.Status500InternalServerError);
                }

                context.Response.Headers.ETag = ETagValue;
                if (LastIfNoneMatch == ETagValue)
                {
                    Responses.Add("304");
                    return Results.StatusCode(StatusCodes.Status304NotModified);
                }

                Responses.Add("200");
                return Results.Bytes(Archive, "application/zip");
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }
    }
}
