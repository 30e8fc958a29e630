using System.Globalization;
using System.Text;

namespace Dtr.Storage.AzureBlob;

/// <summary>
/// Builds every blob name and block id of the Azure blob store: the blob and upload prefixes of
/// <see cref="ObjectKeyLayout"/>, and the one blob of an upload under its prefix.
/// </summary>
/// <remarks>
/// The blob of one upload:
/// <code>
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/data                       one block blob per upload: its committed bytes
/// </code>
/// </remarks>
internal sealed class AzureBlobLayout : ObjectKeyLayout
{
    /// <summary>The maximum number of blocks in one block blob.</summary>
    public const int MaxBlocksPerBlob = 50_000;

    private const string UploadDataName = "data";

    /// <summary>Creates the layout for a prefix. Null or empty puts the store at the container's root.</summary>
    public AzureBlobLayout(string? prefix)
        : base(prefix)
    {
    }

    /// <summary>Returns the name of the block blob that holds an upload's bytes, after checking the id.</summary>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public string GetUploadBlobName(string uploadId) => GetUploadPrefix(uploadId) + UploadDataName;

    /// <summary>
    /// Returns the base64 block id for one block staged by one writer or commit. The token keeps the blocks of two
    /// writers of the same blob apart, and the index orders the blocks of one writer. Every id has the same length,
    /// as the Blob service requires for the blocks of one blob.
    /// </summary>
    public static string CreateBlockId(Guid token, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxBlocksPerBlob);
        var text = token.ToString("N", CultureInfo.InvariantCulture) + "-" + index.ToString("D6", CultureInfo.InvariantCulture);
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(text));
    }
}
