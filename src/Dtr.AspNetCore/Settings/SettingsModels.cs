namespace Dtr.AspNetCore.Settings;

/// <summary>The <c>/settings</c> resource: the effective runtime settings and read-only storage facts.</summary>
/// <param name="UpdatedAt">When an administrator last saved the settings, or null when nothing was saved.</param>
/// <param name="UpdatedBy">The user name of that administrator, or null.</param>
internal sealed record SettingsResponse(
    GeneralSettingsResponse General,
    ScanningSettingsResponse Scanning,
    GarbageCollectionSettingsResponse GarbageCollection,
    StorageSettingsResponse Storage,
    DateTimeOffset? UpdatedAt,
    string? UpdatedBy);

/// <param name="PublicBaseUrl">The externally visible base URL, or null when each request's own scheme and host are used.</param>
/// <param name="CreateRepositoryOnPush">Whether a push to a missing repository creates it.</param>
internal sealed record GeneralSettingsResponse(string? PublicBaseUrl, bool CreateRepositoryOnPush);

/// <param name="Enabled">Whether scans run.</param>
/// <param name="Mode"><c>online</c> when database URLs are set, else <c>offline</c>: the database changes only by upload.</param>
/// <param name="DatabaseUrls">The database URLs, with credentials and query values redacted.</param>
/// <param name="UpdateIntervalMinutes">How often the online update runs, in minutes.</param>
internal sealed record ScanningSettingsResponse(bool Enabled, string Mode, IReadOnlyList<string> DatabaseUrls, double UpdateIntervalMinutes);

/// <param name="ScheduleIntervalMinutes">Minutes between scheduled runs, or null for no interval schedule.</param>
/// <param name="ScheduleCron">The cron expression of scheduled runs, or null for no cron schedule.</param>
/// <param name="ScheduleTimeZone">The time zone the cron expression is read in.</param>
/// <param name="MaxDurationMinutes">The time budget of a scheduled run in minutes, or null for none.</param>
/// <param name="DeleteUntagged">Whether scheduled runs remove manifests that no tag reaches.</param>
internal sealed record GarbageCollectionSettingsResponse(
    double? ScheduleIntervalMinutes,
    string? ScheduleCron,
    string ScheduleTimeZone,
    double? MaxDurationMinutes,
    bool DeleteUntagged);

/// <param name="BlobStore">The blob store kind, such as <c>filesystem</c>, <c>s3</c> or <c>azureBlob</c>.</param>
/// <param name="BlobStoreLocation">Where the blob store keeps blobs, without credentials.</param>
/// <param name="MetadataStore">The metadata store kind, such as <c>sqlite</c> or <c>postgresql</c>.</param>
/// <param name="BlobCount">The distinct blobs that at least one repository links, or null when the metadata store cannot count them.</param>
/// <param name="TotalBytes">The total size of those blobs in bytes, or null when the metadata store cannot count them.</param>
internal sealed record StorageSettingsResponse(string BlobStore, string? BlobStoreLocation, string MetadataStore, long? BlobCount, long? TotalBytes);
