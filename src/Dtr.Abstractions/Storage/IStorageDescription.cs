namespace Dtr.Storage;

/// <summary>
/// An optional capability of a blob or metadata store: its kind and where it keeps data, for administrators. The
/// management API shows both, so neither may contain credentials.
/// </summary>
public interface IStorageDescription
{
    /// <summary>The kind of store, a fixed lowercase-first name such as <c>filesystem</c>, <c>s3</c>, <c>azureBlob</c>, <c>sqlite</c> or <c>postgresql</c>.</summary>
    string StorageKind { get; }

    /// <summary>Where the store keeps data, without credentials: a folder, a bucket and prefix, a container, a database file, or a server and database.</summary>
    string StorageLocation { get; }
}
