using System.Reflection;
using System.Runtime.ExceptionServices;
using Dtr.Scanning.Service;
using Dtr.Scanning.Vulnerabilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dtr.Scanning.Tests.Service;

public sealed class DatabaseArchiveImporterTests
{
    private static readonly byte[] Archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3"));

    [Fact]
    public async Task Import_SameDigest_Unchanged()
    {
        await using var host = await ScanningTestHost.StartAsync();
        var importer = host.Get<DatabaseArchiveImporter>();

        var first = await ImportAsync(importer, "debian", Archive);
        var second = await ImportAsync(importer, "debian", Archive);

        Assert.False(first.Unchanged);
        Assert.True(second.Unchanged);
        Assert.Equal(1, second.RecordCount);
        Assert.Equal(first.Database.Version, second.Database.Version);
        Assert.Equal(first.Database.Version, (await host.Store.GetVulnerabilityDatabaseAsync()).Version);
    }

    [Fact]
    public async Task Import_ReplacedByRival_Conflict()
    {
        await using var host = await ScanningTestHost.StartAsync(services: collection =>
            collection.AddSingleton<IVulnerabilityDatabase>(provider => new VulnerabilityDatabase(
                RivalImportStore.Wrap(provider.GetRequiredService<IScanStore>(), "debian"),
                NullLogger<VulnerabilityDatabase>.Instance)));
        var importer = host.Get<DatabaseArchiveImporter>();

        var rejected = await Assert.ThrowsAsync<DatabaseArchiveException>(() => ImportAsync(importer, "debian", Archive));

        Assert.Equal(ArchiveRejection.Conflict, rejected.Rejection);
        Assert.Contains("ran at the same time", rejected.Message, StringComparison.Ordinal);
        Assert.Contains("retry", rejected.Message, StringComparison.Ordinal);
    }

    private static async Task<ImportResult> ImportAsync(DatabaseArchiveImporter importer, string source, byte[] archive)
    {
        await using var spooled = await importer.SpoolAsync(new MemoryStream(archive), archive.Length, CancellationToken.None);
        return await importer.ImportAsync(source, spooled, null, null, CancellationToken.None);
    }

    /// <summary>
    /// Forwards every call to the real store, but begins a second import of the source before the first batch of
    /// records is added, as a concurrent upload of the same source would.
    /// </summary>
    public class RivalImportStore : DispatchProxy
    {
        private IScanStore _inner = null!;
        private string _source = "";
        private bool _rivalBegun;

        public static IScanStore Wrap(IScanStore inner, string source)
        {
            var proxy = Create<IScanStore, RivalImportStore>();
            var rival = (RivalImportStore)(object)proxy;
            rival._inner = inner;
            rival._source = source;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IScanStore.AddVulnerabilitiesAsync) && !_rivalBegun)
            {
                _rivalBegun = true;
                _inner.BeginVulnerabilityImportAsync(_source).AsTask().GetAwaiter().GetResult();
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException exception) when (exception.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(exception.InnerException);
                throw;
            }
        }
    }
}
