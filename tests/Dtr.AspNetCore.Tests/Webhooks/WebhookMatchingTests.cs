using System.Security.Cryptography;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Webhooks;
using Dtr.Metadata;
using Dtr.Scanning;

namespace Dtr.AspNetCore.Tests.Webhooks;

public sealed class WebhookMatchingTests
{
    private static WebhookSubscription Subscription(WebhookScope scope, string? target, WebhookEventTypes events, Severity minSeverity = Severity.High) =>
        new(1, scope, target, "http://127.0.0.1:9/", events, minSeverity, true, "whsec_test", null, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    [Theory]
    [InlineData(WebhookScope.Registry, null, "acme/app", true)]
    [InlineData(WebhookScope.Namespace, "acme", "acme/app", true)]
    [InlineData(WebhookScope.Namespace, "acme", "acme/tools/cli", true)]
    [InlineData(WebhookScope.Namespace, "acme", "acme2/app", false)]
    [InlineData(WebhookScope.Namespace, "acme", "acm/app", false)]
    [InlineData(WebhookScope.Repository, "acme/app", "acme/app", true)]
    [InlineData(WebhookScope.Repository, "acme/app", "acme/app2", false)]
    [InlineData(WebhookScope.Repository, "acme/app", "acme/app/sub", false)]
    public void Covers_MatchesScope(WebhookScope scope, string? target, string repository, bool expected)
    {
        Assert.Equal(expected, WebhookSubscriptionCache.Covers(Subscription(scope, target, WebhookEventTypes.All), repository));
    }

    [Fact]
    public void SelectTypes_FiltersEventType()
    {
        var pullsOnly = Subscription(WebhookScope.Registry, null, WebhookEventTypes.ImagePulled);

        Assert.Empty(WebhookDispatcher.SelectTypes(pullsOnly, WebhookEventTypes.ImagePushed, null));
        Assert.Equal([WebhookEventTypes.ImagePulled], WebhookDispatcher.SelectTypes(pullsOnly, WebhookEventTypes.ImagePulled, null));
        Assert.Empty(WebhookDispatcher.SelectTypes(pullsOnly, WebhookEventTypes.ScanCompleted, null));
    }

    [Theory]
    [InlineData(Severity.Critical, 0, 3, false)]
    [InlineData(Severity.High, 0, 3, true)]
    [InlineData(Severity.High, 1, 0, true)]
    [InlineData(Severity.Medium, 0, 0, false)]
    [InlineData(Severity.Unknown, 0, 0, false)]
    public void SelectTypes_AppliesMinSeverity(Severity minSeverity, int critical, int high, bool expected)
    {
        var subscription = Subscription(WebhookScope.Registry, null, WebhookEventTypes.ScanVulnerabilitiesFound, minSeverity);
        var scan = new WebhookScanSummary("completed", critical, high, 0, 0, 0);

        var types = WebhookDispatcher.SelectTypes(subscription, WebhookEventTypes.ScanCompleted, scan).ToList();

        Assert.Equal(expected, types.Contains(WebhookEventTypes.ScanVulnerabilitiesFound));
        Assert.DoesNotContain(WebhookEventTypes.ScanCompleted, types);
    }

    [Fact]
    public void SelectTypes_FailedScanRaisesCompletedOnly()
    {
        var subscription = Subscription(WebhookScope.Registry, null, WebhookEventTypes.ScanCompleted | WebhookEventTypes.ScanVulnerabilitiesFound, Severity.Low);
        var failed = new WebhookScanSummary("failed", 5, 5, 5, 5, 5);
        var found = new WebhookScanSummary("partial", 0, 0, 0, 1, 0);

        Assert.Equal([WebhookEventTypes.ScanCompleted], WebhookDispatcher.SelectTypes(subscription, WebhookEventTypes.ScanCompleted, failed));
        Assert.Equal([WebhookEventTypes.ScanCompleted, WebhookEventTypes.ScanVulnerabilitiesFound], WebhookDispatcher.SelectTypes(subscription, WebhookEventTypes.ScanCompleted, found));
        Assert.Equal([WebhookEventTypes.ScanCompleted], WebhookDispatcher.SelectTypes(subscription, WebhookEventTypes.ScanCompleted, null));
    }

    [Fact]
    public void Signature_IsHmacOfTimestampAndBody()
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"e1"}""");
        var time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

        var header = WebhookSignature.Create("whsec_key", time, body);

        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("whsec_key"), Encoding.UTF8.GetBytes("1700000000." + """{"id":"e1"}""")));
        Assert.Equal("t=1700000000,v1=" + expected, header);
    }

    [Fact]
    public void RescheduleDelay_DoublesUpToMaximum()
    {
        var options = new RegistryWebhookOptions { RescheduleDelay = TimeSpan.FromMinutes(1), MaxRescheduleDelay = TimeSpan.FromMinutes(5) };

        var first = WebhookDeliveryWorker.RescheduleDelay(options, 1);
        var second = WebhookDeliveryWorker.RescheduleDelay(options, 2);
        var tenth = WebhookDeliveryWorker.RescheduleDelay(options, 10);

        Assert.InRange(first, TimeSpan.FromSeconds(48), TimeSpan.FromSeconds(72));
        Assert.InRange(second, TimeSpan.FromSeconds(96), TimeSpan.FromSeconds(144));
        Assert.InRange(tenth, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));
    }

    [Fact]
    public void Options_LeaseMustCoverRound()
    {
        var options = new RegistryWebhookOptions { AttemptsPerRound = 3, AttemptTimeout = TimeSpan.FromMinutes(2), LeaseDuration = TimeSpan.FromMinutes(5) };

        var errors = WebhookOptionsValidator.Check(options).ToList();

        Assert.Single(errors);
        Assert.Contains("Registry:Webhooks:LeaseDuration", errors[0], StringComparison.Ordinal);
        Assert.Empty(WebhookOptionsValidator.Check(new RegistryWebhookOptions()));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("0.1.2.3", true)]
    [InlineData("198.18.0.1", true)]
    [InlineData("198.19.255.255", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("::", true)]
    [InlineData("::127.0.0.1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("64:ff9b::7f00:1", true)]
    [InlineData("64:ff9b::a00:1", true)]
    [InlineData("64:ff9b:1::1", true)]
    [InlineData("2002:7f00:1::", true)]
    [InlineData("2002:a9fe:a9fe::1", true)]
    [InlineData("2001:0:4136:e378::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("fec0::1", true)]
    [InlineData("100::1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("198.20.0.1", false)]
    [InlineData("64:ff9b::808:808", false)]
    [InlineData("2002:808:808::1", false)]
    [InlineData("2606:4700::1111", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("2001:db8::1", false)]
    public void AddressPolicy_FindsPrivateAddresses(string address, bool expected)
    {
        Assert.Equal(expected, WebhookAddressPolicy.IsPrivate(System.Net.IPAddress.Parse(address)));
    }
}
