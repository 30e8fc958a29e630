using Dtr.Storage;

namespace Dtr.Abstractions.Tests.Storage;

public class ChunkedUploadWriterTests
{
    [Fact]
    public async Task Write_HandsOnFullChunks()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4);

        await writer.WriteAsync(Bytes(0, 10));

        Assert.Equal(2, writer.Chunks.Count);
        Assert.Equal(Bytes(0, 4), writer.Chunks[0]);
        Assert.Equal(Bytes(4, 4), writer.Chunks[1]);
        Assert.Equal(10, writer.Length);
        Assert.Equal(0, writer.CompletedFlushes);
    }

    [Fact]
    public async Task Write_JoinsSmallWritesIntoOneChunk()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4);

        await writer.WriteAsync(Bytes(0, 3));
        Assert.Empty(writer.Chunks);
        await writer.WriteAsync(Bytes(3, 3));

        Assert.Equal(Bytes(0, 4), Assert.Single(writer.Chunks));
        Assert.Equal(6, writer.Length);
    }

    [Fact]
    public async Task Write_EmptyDataWritesNothing()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4);

        await writer.WriteAsync(ReadOnlyMemory<byte>.Empty);

        Assert.Empty(writer.Chunks);
        Assert.Equal(0, writer.Length);
    }

    [Fact]
    public async Task Flush_WritesPartialTailThenCompletes()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4);
        await writer.WriteAsync(Bytes(0, 10));

        await writer.FlushAsync();

        Assert.Equal(3, writer.Chunks.Count);
        Assert.Equal(Bytes(8, 2), writer.Chunks[2]);
        Assert.Equal(1, writer.CompletedFlushes);
        Assert.Equal(3, writer.ChunksAtLastCompletedFlush);
    }

    [Fact]
    public async Task Flush_EmptyBufferStillCompletes()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4);
        await writer.WriteAsync(Bytes(0, 4));

        await writer.FlushAsync();
        await writer.FlushAsync();

        Assert.Single(writer.Chunks);
        Assert.Equal(2, writer.CompletedFlushes);
    }

    [Fact]
    public async Task Length_StartsAtExistingLength()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4, length: 100);

        await writer.WriteAsync(Bytes(0, 5));

        Assert.Equal(105, writer.Length);
    }

    [Fact]
    public async Task Dispose_DropsUnflushedBytes()
    {
        var writer = new RecordingWriter(chunkSizeBytes: 4);
        await writer.WriteAsync(Bytes(0, 6));

        await writer.DisposeAsync();
        await writer.DisposeAsync();

        Assert.Equal(Bytes(0, 4), Assert.Single(writer.Chunks));
        Assert.Equal(0, writer.CompletedFlushes);
    }

    [Fact]
    public async Task FailedChunk_StaysBufferedForRetry()
    {
        await using var writer = new RecordingWriter(chunkSizeBytes: 4) { FailuresLeft = 1 };
        await writer.WriteAsync(Bytes(0, 3));

        await Assert.ThrowsAsync<IOException>(async () => await writer.FlushAsync());
        Assert.Empty(writer.Chunks);
        Assert.Equal(0, writer.CompletedFlushes);

        await writer.FlushAsync();

        Assert.Equal(Bytes(0, 3), Assert.Single(writer.Chunks));
        Assert.Equal(1, writer.CompletedFlushes);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-1, 0)]
    [InlineData(4, -1)]
    public void Constructor_InvalidSizesThrow(int chunkSizeBytes, long length)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecordingWriter(chunkSizeBytes, length));
    }

    private static byte[] Bytes(int start, int count) => Enumerable.Range(start, count).Select(i => (byte)i).ToArray();

    /// <summary>Keeps a copy of every chunk, because the writer reuses the memory it hands on.</summary>
    private sealed class RecordingWriter(int chunkSizeBytes, long length = 0) : ChunkedUploadWriter(chunkSizeBytes, length)
    {
        public List<byte[]> Chunks { get; } = [];

        public int CompletedFlushes { get; private set; }

        public int ChunksAtLastCompletedFlush { get; private set; }

        public int FailuresLeft { get; set; }

        protected override ValueTask WriteChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new IOException("Simulated storage failure.");
            }

            Chunks.Add(chunk.ToArray());
            return ValueTask.CompletedTask;
        }

        protected override ValueTask CompleteFlushAsync(CancellationToken cancellationToken)
        {
            CompletedFlushes++;
            ChunksAtLastCompletedFlush = Chunks.Count;
            return ValueTask.CompletedTask;
        }
    }
}
