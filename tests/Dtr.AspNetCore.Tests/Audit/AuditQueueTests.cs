using Dtr.AspNetCore.Audit;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dtr.AspNetCore.Tests.Audit;

public sealed class AuditQueueTests
{
    [Fact]
    public void Record_FullQueueDropsAndCounts()
    {
        var log = new AuditLog(TimeProvider.System, NullLogger<AuditLog>.Instance);
        var context = new DefaultHttpContext();

        for (var i = 0; i < AuditLog.QueueCapacity + 3; i++)
        {
            log.Record(context, "alice", null, "queue.fill", 200, null);
        }

        Assert.Equal(3, log.DroppedCount);
    }

    [Fact]
    public async Task Stop_StoresQueuedEntries()
    {
        await using var factory = new ManagementFactory();
        using var admin = factory.CreateAdminClient();
        var log = factory.Services.GetRequiredService<AuditLog>();
        var writer = factory.Services.GetServices<IHostedService>().OfType<AuditWriter>().Single();
        var context = new DefaultHttpContext();

        for (var i = 0; i < 1000; i++)
        {
            log.Record(context, "flush-actor", null, "queue.flush", 200, null);
        }

        await writer.StopAsync(CancellationToken.None);

        var store = factory.Services.GetRequiredService<IAuditStore>();
        var stored = await store.ListAuditEntriesAsync(new AuditFilter(Actor: "flush-actor"), null, 2000);
        Assert.Equal(1000, stored.Count);
        Assert.Equal(0, log.DroppedCount);
    }
}
