using Dtr.Digests;

namespace Dtr.Storage;

/// <summary>
/// A content-addressed, byte-level blob store: one copy of each blob, keyed by digest, whatever the number of
/// repositories that use it, plus a staging area for uploads in progress.
/// </summary>
/// <remarks>
/// The store has no notion of repositories, because which repository may see which blob is metadata. A blob becomes
/// visible only through <see cref="CommitUploadAsync"/>, which must be atomic: after a crash at any point a
/// reader sees either the whole blob or none of it. Implementations must be safe for concurrent use.
/// </remarks>
public interface IBlobStore
{
    /// <summary>Returns the size of a stored blob, or null when the blob is not stored.</summary>
    ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a stored blob for reading from <paramref name="offset"/>, or returns null when the blob is not stored.
    /// The caller disposes the stream.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is negative or past the end of the blob.</exception>
    ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default);

    /// <summary>Deletes a stored blob and returns whether it existed.</summary>
    ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default);

    /// <summary>Lists every stored blob, with <see cref="BlobInfo.LastModified"/>, in no particular order.</summary>
    IAsyncEnumerable<BlobInfo> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates an empty upload with the given id.</summary>
    /// <param name="uploadId">An id chosen by the caller: 1 to 64 characters from <c>[A-Za-z0-9-]</c>.</param>
    ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>Returns the number of bytes stored so far for an upload, or null when the upload does not exist.</summary>
    ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens an upload for appending at its current end. Only one writer per upload may be open at a time;
    /// the caller serializes access.
    /// </summary>
    /// <exception cref="UploadNotFoundException">The upload does not exist.</exception>
    ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>Opens the bytes of an upload for reading, for example to hash them again after a restart.</summary>
    /// <exception cref="UploadNotFoundException">The upload does not exist.</exception>
    ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes an upload durable and moves it into place as the blob <paramref name="digest"/>, then removes the upload.
    /// The caller must already have verified that the upload's bytes hash to <paramref name="digest"/>. When the blob
    /// is already stored, the stored copy is kept and the upload is discarded.
    /// </summary>
    /// <exception cref="UploadNotFoundException">The upload does not exist.</exception>
    ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default);

    /// <summary>Deletes an upload and its data; does nothing when it does not exist.</summary>
    ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default);
}

/// <summary>
/// The append side of an upload in progress. Disposing it releases the upload without committing it.
/// </summary>
public interface IBlobUploadWriter : IAsyncDisposable
{
    /// <summary>The number of bytes in the upload, including those written through this writer.</summary>
    long Length { get; }

    /// <summary>Appends bytes to the upload.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands every byte written so far to storage, so a later request, on this host or another, can read it. Only
    /// <see cref="IBlobStore.CommitUploadAsync"/> must make the bytes durable: an upload that a crash cuts short loses
    /// at most its last bytes, and the client resumes from the length that the upload then reports.
    /// </summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}

/// <summary>The digest and size of a stored blob.</summary>
/// <param name="Digest">The blob's digest.</param>
/// <param name="Size">The blob's size, in bytes.</param>
public sealed record BlobInfo(Digest Digest, long Size)
{
    /// <summary>
    /// When the blob's bytes were last written, as the storage reports it, or null when it was not read. Stores fill it
    /// in <see cref="IBlobStore.ListAsync"/>; garbage collection keeps a blob written after its cutoff.
    /// </summary>
    public DateTimeOffset? LastModified { get; init; }
}

/// <summary>Thrown when an upload id names no upload in the blob store.</summary>
public sealed class UploadNotFoundException : Exception
{
    /// <summary>Creates the exception for an upload id.</summary>
    public UploadNotFoundException(string uploadId)
        : base($"The upload '{uploadId}' does not exist in the blob store.")
    {
        UploadId = uploadId;
    }

    /// <summary>The id that was not found.</summary>
    public string UploadId { get; }
}
