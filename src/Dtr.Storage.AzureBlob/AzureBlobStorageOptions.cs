using Azure.Storage.Blobs;
using Dtr.Resilience;

namespace Dtr.Storage.AzureBlob;

/// <summary>
/// Settings of the Azure Blob Storage blob store. Set either <see cref="ConnectionString"/>, or
/// <see cref="ServiceUri"/> with a shared key (<see cref="AccountName"/> and <see cref="AccountKey"/>) or with a
/// <see cref="SasToken"/>. Every property is a string, number or flag, so the class binds from configuration.
/// </summary>
/// <remarks>
/// TODO: Microsoft Entra ID (a <c>TokenCredential</c> such as managed identity) is not supported yet. It would need
/// bearer authorization of the Put Block From URL source in a commit, and a user delegation key for redirect URLs.
/// </remarks>
public sealed class AzureBlobStorageOptions
{
    /// <summary>The smallest accepted <see cref="BlockSizeBytes"/>: 1 MiB.</summary>
    public const int MinBlockSizeBytes = 1024 * 1024;

    /// <summary>The largest accepted <see cref="BlockSizeBytes"/>: 256 MiB, because each open writer keeps one block in memory.</summary>
    public const int MaxBlockSizeBytes = 256 * 1024 * 1024;

    /// <summary>The smallest accepted <see cref="CopyBlockSizeBytes"/>: 1 MiB.</summary>
    public const long MinCopyBlockSizeBytes = 1024 * 1024;

    /// <summary>
    /// The largest accepted <see cref="CopyBlockSizeBytes"/>: 4000 MiB, the largest block that the Blob service
    /// accepts from API version 2019-12-12 on (Azure Blob Storage scale targets).
    /// </summary>
    public const long MaxCopyBlockSizeBytes = 4000L * 1024 * 1024;

    /// <summary>
    /// A storage account connection string, such as
    /// <c>DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=...;EndpointSuffix=core.windows.net</c>,
    /// or one with <c>BlobEndpoint=...;SharedAccessSignature=...</c>. Set it or <see cref="ServiceUri"/>, not both.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The blob service endpoint, such as <c>https://myaccount.blob.core.windows.net</c>, or
    /// <c>http://127.0.0.1:10000/devstoreaccount1</c> for Azurite. Needs <see cref="AccountName"/> and
    /// <see cref="AccountKey"/>, or <see cref="SasToken"/>.
    /// </summary>
    public string? ServiceUri { get; set; }

    /// <summary>The storage account name, for shared key authorization with <see cref="ServiceUri"/>.</summary>
    public string? AccountName { get; set; }

    /// <summary>The storage account key (base64), for shared key authorization with <see cref="ServiceUri"/>.</summary>
    public string? AccountKey { get; set; }

    /// <summary>
    /// A shared access signature for the account or the container, with or without the leading <c>?</c>, for use
    /// with <see cref="ServiceUri"/>. It needs the read, add, create, write, delete and list permissions. With a SAS
    /// the store cannot sign redirect URLs, so blob downloads go through the registry.
    /// </summary>
    public string? SasToken { get; set; }

    /// <summary>The container that stores blobs and uploads. Required: 3 to 63 lowercase letters, digits and single hyphens.</summary>
    public string? ContainerName { get; set; }

    /// <summary>
    /// A name prefix for every blob of the store, such as <c>registry/prod</c>, so several registries can share a
    /// container. Leading and trailing slashes are ignored. Empty by default.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>
    /// Creates the container on first use when it does not exist. Off by default, because it needs account-level
    /// permission that a container SAS does not grant.
    /// </summary>
    public bool CreateContainerIfMissing { get; set; }

    /// <summary>
    /// The blob service endpoint that registry clients reach, when it differs from the one the registry uses, such
    /// as <c>https://storage.example.com/myaccount</c> behind a proxy. Redirect URLs start with it in place of the
    /// service endpoint. The SAS signature does not cover the host name, so it stays valid.
    /// </summary>
    public string? PublicEndpoint { get; set; }

    /// <summary>
    /// The size of a block that an upload writer stages, in bytes: 8 MiB by default, from 1 MiB to 256 MiB. Each
    /// open writer keeps one block in memory. A block blob holds at most 50,000 blocks, so an upload can grow to at
    /// most 50,000 blocks of this size, and fewer when clients send chunks smaller than a block.
    /// </summary>
    public int BlockSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// The size of the range that a commit copies with each Put Block From URL call, in bytes: 256 MiB by default,
    /// from 1 MiB to 4000 MiB. The copy runs inside the storage service, so this sets no memory use. It should let
    /// one call finish well within <see cref="StorageResilienceOptions.AttemptTimeout"/>.
    /// </summary>
    public long CopyBlockSizeBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Retries, attempt timeout and circuit breaker around each call to the storage service. The Azure SDK's own
    /// retries are turned off, so a fault is retried only here.
    /// </summary>
    public StorageResilienceOptions Resilience { get; set; } = new();

    /// <summary>A hook that changes the SDK client options before the client is built; tests add fault policies with it.</summary>
    internal Action<BlobClientOptions>? ConfigureClientOptions { get; set; }
}
