using System.Net;
using Dtr.AspNetCore.Tests.Management;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Webhooks;

public sealed class PrivateAddressTests : IClassFixture<PrivateAddressTests.BlockingFactory>
{
    private readonly BlockingFactory _factory;

    public PrivateAddressTests(BlockingFactory factory) => _factory = factory;

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("https://10.0.0.5/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[64:ff9b::7f00:1]/hook")]
    [InlineData("http://[2002:7f00:1::]/hook")]
    [InlineData("http://[::ffff:10.0.0.1]/hook")]
    [InlineData("http://198.18.0.1/hook")]
    [InlineData("http://224.0.0.1/hook")]
    [InlineData("http://255.255.255.255/hook")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://[fd00::1]/hook")]
    [InlineData("http://2130706433/hook")]
    public async Task Create_RejectsPrivateUrl(string url)
    {
        using var admin = _factory.CreateAdminClient();

        using var response = await admin.PostAsync("/webhooks", new { url, scope = "registry", events = new[] { "image.pushed" } });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("AllowPrivateAddresses", problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_AcceptsPublicUrl()
    {
        using var admin = _factory.CreateAdminClient();

        using var response = await admin.PostAsync("/webhooks", new { url = "https://203.0.113.10/hook", scope = "registry", events = new[] { "image.pushed" }, enabled = false });

        await AssertStatusAsync(response, HttpStatusCode.Created, "creating a webhook with a public address");
    }

    /// <summary>A management host with <c>Registry:Webhooks:AllowPrivateAddresses</c> off.</summary>
    public sealed class BlockingFactory : ManagementFactory
    {
        public BlockingFactory()
            : base(new Dictionary<string, string?>
            {
                ["Registry:Admin:Password"] = AdminPassword,
                ["Registry:Webhooks:AllowPrivateAddresses"] = "false",
            })
        {
        }
    }
}
