using System.Net;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Names;
using Dtr.Scanning.Tests.Service;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Scanning;

public sealed class PullPolicyTests : IClassFixture<ScanningFactory>, IAsyncLifetime
{
    private readonly ScanningFactory _factory;
    private readonly ManagementClient _admin;
    private string _owner = "";
    private string _writer = "";

    public PullPolicyTests(ScanningFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public async Task InitializeAsync()
    {
        await _factory.ImportGlibcArchiveAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        _owner = "policy" + suffix;
        _writer = "puller" + suffix;
        await _admin.CreateUserAsync(_writer);
        await _admin.CreateOrganizationAsync(_owner);
        await _admin.CreateTeamAsync(_owner, "writers", _writer);
    }

    public Task DisposeAsync()
    {
        _admin.Dispose();
        return Task.CompletedTask;
    }

    private async Task<RepositoryName> CreateRepositoryAsync(string name)
    {
        await _admin.CreateRepositoryAsync(_owner, name);
        await _admin.GrantAsync($"{_owner}/{name}", "writers", "read-write");
        return RepositoryName.Parse($"{_owner}/{name}");
    }

    private async Task<string> StoreScannedImageAsync(RepositoryName repository, string glibcVersion, string architecture = "amd64")
    {
        var (digest, _) = await _factory.StoreDebianImageAsync(repository, glibcVersion, architecture);
        using var queued = await _admin.PostAsync($"/repositories/{repository}/manifests/{digest}/scan", null);
        await ReadJsonAsync(queued, HttpStatusCode.Accepted);
        await ScanningFactory.WaitForScanAsync(_admin, repository.Value, digest);
        return digest;
    }

    private async Task SetPolicyAsync(RepositoryName repository, object policy)
    {
        using var response = await _admin.PutAsync($"/repositories/{repository}/scanning/policy", policy);
        await AssertStatusAsync(response, HttpStatusCode.OK, $"setting the pull policy of {repository}");
    }

    private Task<HttpResponseMessage> PullAsync(RepositoryName repository, string digest, HttpMethod? method = null) =>
        _factory.SendRegistryAsync(method ?? HttpMethod.Get, $"/v2/{repository}/manifests/{digest}", _writer, PasswordOf(_writer));

    private static async Task<string> AssertDeniedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("errors")[0];
        Assert.Equal("DENIED", error.GetProperty("code").GetString());
        return error.GetProperty("message").GetString()!;
    }

    [Fact]
    public async Task Policy_GetDefaultAndPermissions()
    {
        var repository = await CreateRepositoryAsync("settings");
        using var writer = _factory.CreateManagementClient(_writer, PasswordOf(_writer));

        using var initial = await writer.GetAsync($"/repositories/{repository}/scanning/policy");
        using var forbidden = await writer.PutAsync($"/repositories/{repository}/scanning/policy", new { blockSeverity = "high" });
        using var invalid = await _admin.PutAsync($"/repositories/{repository}/scanning/policy", new { blockSeverity = "severe" });
        using var set = await _admin.PutAsync(
            $"/repositories/{repository}/scanning/policy",
            new { blockSeverity = "critical", allowUnscanned = false, allowlist = new[] { new { id = "CVE-2023-4911", expiresAt = (DateTimeOffset?)null, reason = "not reachable" } } });
        using var read = await writer.GetAsync($"/repositories/{repository}/scanning/policy");

        var policy = await ReadJsonAsync(initial);
        Assert.Equal(JsonValueKind.Null, policy.GetProperty("blockSeverity").ValueKind);
        Assert.True(policy.GetProperty("allowUnscanned").GetBoolean());
        Assert.Empty(policy.GetProperty("allowlist").EnumerateArray());
        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
        await ReadJsonAsync(set);
        var stored = await ReadJsonAsync(read);
        Assert.Equal("critical", stored.GetProperty("blockSeverity").GetString());
        Assert.False(stored.GetProperty("allowUnscanned").GetBoolean());
        Assert.Equal("not reachable", stored.GetProperty("allowlist")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Pull_VulnerableImage_DeniedAndAllowlisted()
    {
        var repository = await CreateRepositoryAsync("blocked/app");
        var vulnerable = await StoreScannedImageAsync(repository, "2.36-9");
        var fixedImage = await StoreScannedImageAsync(repository, "2.36-9+deb12u4", "arm64");

        await SetPolicyAsync(repository, new { blockSeverity = "high" });
        using var denied = await PullAsync(repository, vulnerable);
        using var head = await PullAsync(repository, vulnerable, HttpMethod.Head);
        using var clean = await PullAsync(repository, fixedImage);

        var message = await AssertDeniedAsync(denied);
        Assert.Contains("CVE-2023-4911 (high, libc6 2.36-9)", message, StringComparison.Ordinal);
        Assert.Contains("has 1 vulnerability at or above high", message, StringComparison.Ordinal);
        Assert.Contains("allowlist it.", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.OK, clean.StatusCode);

        await SetPolicyAsync(repository, new { blockSeverity = "critical" });
        using var belowSeverity = await PullAsync(repository, vulnerable);
        Assert.Equal(HttpStatusCode.OK, belowSeverity.StatusCode);

        // An entry names the vulnerability by its alias.
        await SetPolicyAsync(repository, new { blockSeverity = "high", allowlist = new[] { new { id = "DSA-5514-1", expiresAt = DateTimeOffset.UtcNow.AddDays(1) } } });
        using var allowlisted = await PullAsync(repository, vulnerable);
        Assert.Equal(HttpStatusCode.OK, allowlisted.StatusCode);

        await SetPolicyAsync(repository, new { blockSeverity = "high", allowlist = new[] { new { id = "CVE-2023-4911", expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) } } });
        using var expired = await PullAsync(repository, vulnerable);
        await AssertDeniedAsync(expired);
    }

    [Fact]
    public async Task Pull_Unscanned_DeniedByPolicy()
    {
        var repository = await CreateRepositoryAsync("unscanned");
        var (digest, manifest) = await _factory.StoreDebianImageAsync(repository, "2.36-9");
        var index = await _factory.StoreManifestAsync(repository, TestArtifacts.Index((manifest, "linux", "amd64")));

        await SetPolicyAsync(repository, new { blockSeverity = "high", allowUnscanned = true });
        using var allowed = await PullAsync(repository, digest);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        await SetPolicyAsync(repository, new { blockSeverity = "high", allowUnscanned = false });
        using var denied = await PullAsync(repository, digest);
        using var indexPull = await PullAsync(repository, index);

        Assert.Contains("has not been scanned", await AssertDeniedAsync(denied), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, indexPull.StatusCode);
    }

    [Fact]
    public async Task Pull_NoPolicy_NotChecked()
    {
        var repository = await CreateRepositoryAsync("open");
        var digest = await StoreScannedImageAsync(repository, "2.36-9");

        using var response = await PullAsync(repository, digest);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
