using System.Text.Json.Nodes;
using Dtr.AspNetCore.Configuration;
using Dtr.Gc;
using Dtr.Scanning.Service;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// The settings in effect on this host: the configured <see cref="RegistryOptions"/> with the stored overrides on top,
/// and the stored document they came from.
/// </summary>
internal sealed class EffectiveSettings
{
    private EffectiveSettings(RegistryOptions options, JsonObject overrides, long version, DateTimeOffset? updatedAt, string? updatedBy)
    {
        Options = options;
        Overrides = overrides;
        Version = version;
        UpdatedAt = updatedAt;
        UpdatedBy = updatedBy;
        PublicBase = options.PublicBaseUrl?.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>
    /// A copy of the configured options with the overrides applied. Members that cannot be overridden are the
    /// configured ones, and <see cref="RegistryOptions.Scanning"/> and <see cref="RegistryOptions.GarbageCollection"/> are
    /// copies too, so the configured instances never change.
    /// </summary>
    public RegistryOptions Options { get; }

    /// <summary>The stored overrides document; empty when nothing is overridden.</summary>
    public JsonObject Overrides { get; }

    /// <summary>The version of the stored document, or 0 when none is stored.</summary>
    public long Version { get; }

    /// <summary>When the stored document was last saved, or null when none is stored.</summary>
    public DateTimeOffset? UpdatedAt { get; }

    /// <summary>Who last saved the stored document, or null.</summary>
    public string? UpdatedBy { get; }

    /// <summary>The public base URL without a trailing '/', or null to use each request's own scheme and host.</summary>
    public string? PublicBase { get; }

    /// <summary>Builds the effective settings of <paramref name="configured"/> without any override.</summary>
    public static EffectiveSettings FromConfiguration(RegistryOptions configured) =>
        Create(configured, new JsonObject(), new SettingsOverrides(), 0, null, null);

    /// <summary>Applies <paramref name="overrides"/>, read from <paramref name="document"/>, to a copy of <paramref name="configured"/>.</summary>
    /// <exception cref="UriFormatException">A stored URL cannot be parsed; the endpoint checks them before saving.</exception>
    public static EffectiveSettings Create(
        RegistryOptions configured,
        JsonObject document,
        SettingsOverrides overrides,
        long version,
        DateTimeOffset? updatedAt,
        string? updatedBy)
    {
        var options = CopyRegistryOptions(configured);
        if (options.Scanning.SpoolDirectory is null && options.DataDirectory is { } dataDirectory)
        {
            options.Scanning.SpoolDirectory = Path.Combine(Path.GetFullPath(dataDirectory), Microsoft.Extensions.DependencyInjection.DockerRegistryServiceCollectionExtensions.ScanningSpoolFolder);
        }

        if (overrides.General is { } general)
        {
            if (general.PublicBaseUrl is { } publicBaseUrl)
            {
                options.PublicBaseUrl = publicBaseUrl.Length == 0 ? null : new Uri(publicBaseUrl, UriKind.RelativeOrAbsolute);
            }

            options.CreateRepositoryOnPush = general.CreateRepositoryOnPush ?? options.CreateRepositoryOnPush;
        }

        if (overrides.Scanning is { } scanning)
        {
            options.Scanning.Enabled = scanning.Enabled ?? options.Scanning.Enabled;
            if (scanning.DatabaseUrls is { } urls)
            {
                options.Scanning.DatabaseUrls.Clear();
                foreach (var url in urls)
                {
                    options.Scanning.DatabaseUrls.Add(new Uri(url, UriKind.RelativeOrAbsolute));
                }
            }

            if (scanning.UpdateIntervalMinutes is { } minutes)
            {
                options.Scanning.UpdateInterval = TimeSpan.FromMinutes(minutes);
            }
        }

        if (overrides.GarbageCollection is { } gc)
        {
            if (gc.ScheduleIntervalMinutes is { } intervalMinutes)
            {
                options.GarbageCollection.ScheduleInterval = intervalMinutes == 0 ? null : TimeSpan.FromMinutes(intervalMinutes);
            }

            if (gc.ScheduleCron is { } cron)
            {
                options.GarbageCollection.ScheduleCron = cron.Length == 0 ? null : cron;
            }

            options.GarbageCollection.ScheduleTimeZone = gc.ScheduleTimeZone ?? options.GarbageCollection.ScheduleTimeZone;
            if (gc.MaxDurationMinutes is { } budgetMinutes)
            {
                options.GarbageCollection.ScheduleMaxDuration = budgetMinutes == 0 ? null : TimeSpan.FromMinutes(budgetMinutes);
            }

            options.GarbageCollection.ScheduleDeletesUntagged = gc.DeleteUntagged ?? options.GarbageCollection.ScheduleDeletesUntagged;
        }

        return new EffectiveSettings(options, document, version, updatedAt, updatedBy);
    }

    /// <summary>
    /// Validates the effective options with <see cref="RegistryOptionsValidator"/>, the rules and messages of start-up.
    /// The configured options passed them when the host started, so every problem comes from an override.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var result = new RegistryOptionsValidator().Validate(null, Options);
        return result.Failed ? result.Failures.ToList() : [];
    }

    /// <summary>Copies every member of <paramref name="source"/> into <paramref name="target"/>, the lists item by item.</summary>
    public static void CopyScanningOptions(ScanningOptions source, ScanningOptions target)
    {
        target.Enabled = source.Enabled;
        target.Concurrency = source.Concurrency;
        target.MaxLayerBytes = source.MaxLayerBytes;
        target.MaxLayerEntries = source.MaxLayerEntries;
        target.MaxPackageDatabaseBytes = source.MaxPackageDatabaseBytes;
        target.DatabaseUrls.Clear();
        foreach (var url in source.DatabaseUrls)
        {
            target.DatabaseUrls.Add(url);
        }

        target.UpdateInterval = source.UpdateInterval;
        target.PublicKeyPem = source.PublicKeyPem;
        target.PublicKeyFile = source.PublicKeyFile;
        target.SignatureUrls.Clear();
        foreach (var (key, url) in source.SignatureUrls)
        {
            target.SignatureUrls[key] = url;
        }

        target.MaxArchiveBytes = source.MaxArchiveBytes;
        target.MaxAttempts = source.MaxAttempts;
        target.JobLeaseDuration = source.JobLeaseDuration;
        target.SpoolDirectory = source.SpoolDirectory;
    }

    /// <summary>Copies every member of <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void CopyGarbageCollectionOptions(GarbageCollectionOptions source, GarbageCollectionOptions target)
    {
        target.GracePeriod = source.GracePeriod;
        target.UploadMaxAge = source.UploadMaxAge;
        target.ScheduleInterval = source.ScheduleInterval;
        target.ScheduleCron = source.ScheduleCron;
        target.ScheduleTimeZone = source.ScheduleTimeZone;
        target.ScheduleDeletesUntagged = source.ScheduleDeletesUntagged;
        target.ScheduleMaxDuration = source.ScheduleMaxDuration;
        target.LeaseDuration = source.LeaseDuration;
        target.HeartbeatInterval = source.HeartbeatInterval;
        target.BatchSize = source.BatchSize;
        target.DeleteConcurrency = source.DeleteConcurrency;
        target.RunRetention = source.RunRetention;
    }

    /// <summary>
    /// Copies the configured options. <see cref="RegistryOptions.Auth"/> and <see cref="RegistryOptions.Admin"/> are
    /// shared, because no override changes them.
    /// </summary>
    // NOTE: a member added to RegistryOptions must be copied here too, or the validation of an override checks its default value.
    private static RegistryOptions CopyRegistryOptions(RegistryOptions source)
    {
        var copy = new RegistryOptions
        {
            DataDirectory = source.DataDirectory,
            PublicBaseUrl = source.PublicBaseUrl,
            MaxManifestBytes = source.MaxManifestBytes,
            MaxBlobBytes = source.MaxBlobBytes,
            DeleteEnabled = source.DeleteEnabled,
            MaxPageSize = source.MaxPageSize,
            UploadBufferBytes = source.UploadBufferBytes,
            UploadLeaseDuration = source.UploadLeaseDuration,
            CreateRepositoryOnPush = source.CreateRepositoryOnPush,
            ManagementApiPrefix = source.ManagementApiPrefix,
            RedirectBlobDownloads = source.RedirectBlobDownloads,
            RedirectLifetime = source.RedirectLifetime,
            SettingsRefreshInterval = source.SettingsRefreshInterval,
            Auth = source.Auth,
            Admin = source.Admin,
        };
        CopyScanningOptions(source.Scanning, copy.Scanning);
        CopyGarbageCollectionOptions(source.GarbageCollection, copy.GarbageCollection);
        return copy;
    }
}
