using Dtr.Digests;
using Dtr.Storage.Uploads;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Builds every path of the filesystem blob store, so that no other code joins user input into a path.
/// </summary>
/// <remarks>
/// The layout under the root folder:
/// <code>
/// &lt;root&gt;/
///   blobs/
///     sha256/
///       ab/
///         abcdef0123…          one file per blob, named by the hex part of its digest
///     sha512/
///       …
///   uploads/
///     &lt;uploadId&gt;/
///       data                   the bytes received so far for that upload
/// </code>
/// The two-character shard folder keeps any single folder from holding every blob. Paths are safe by
/// construction: a <see cref="Digest"/> contains only a registered algorithm name and lowercase hex, and an
/// upload id passes <see cref="UploadIds.Validate"/> before it is joined into a path.
/// </remarks>
internal sealed class BlobStoreLayout
{
    private const string UploadDataFileName = "data";

    /// <summary>Creates the layout for a root folder, resolving a relative path to a full one.</summary>
    public BlobStoreLayout(string rootDirectory)
    {
        RootDirectory = Path.GetFullPath(rootDirectory);
        BlobsDirectory = Path.Combine(RootDirectory, "blobs");
        UploadsDirectory = Path.Combine(RootDirectory, "uploads");
    }

    /// <summary>The full path of the root folder.</summary>
    public string RootDirectory { get; }

    /// <summary>The folder that contains one subfolder per digest algorithm.</summary>
    public string BlobsDirectory { get; }

    /// <summary>The folder that contains one subfolder per upload.</summary>
    public string UploadsDirectory { get; }

    /// <summary>Returns the path of the file that stores the blob.</summary>
    public string GetBlobPath(Digest digest)
    {
        var encoded = GetEncoded(digest);
        return Path.Combine(BlobsDirectory, digest.Algorithm.GetName(), encoded[..2], encoded);
    }

    /// <summary>Returns the path of the shard folder that contains the blob's file.</summary>
    public string GetBlobDirectory(Digest digest)
    {
        var encoded = GetEncoded(digest);
        return Path.Combine(BlobsDirectory, digest.Algorithm.GetName(), encoded[..2]);
    }

    /// <summary>Returns the folder of an upload, after checking the id.</summary>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public string GetUploadDirectory(string uploadId)
    {
        UploadIds.Validate(uploadId);
        return Path.Combine(UploadsDirectory, uploadId);
    }

    /// <summary>Returns the path of the file that stores an upload's bytes, after checking the id.</summary>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public string GetUploadDataPath(string uploadId) => Path.Combine(GetUploadDirectory(uploadId), UploadDataFileName);

    /// <summary>
    /// Parses a blob file found under <see cref="BlobsDirectory"/> back into its digest, or returns false for any
    /// file that the store did not write there, such as a stray file or one in the wrong shard folder.
    /// </summary>
    public static bool TryParseBlobPath(string algorithmName, string shardName, string fileName, out Digest digest)
    {
        digest = default;
        if (!fileName.StartsWith(shardName, StringComparison.Ordinal) || shardName.Length != 2)
        {
            return false;
        }

        return Digest.TryParse(algorithmName + ":" + fileName, out digest);
    }

    private static string GetEncoded(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("The digest is the default value; pass a parsed or computed digest.", nameof(digest));
        }

        return digest.Encoded;
    }
}
