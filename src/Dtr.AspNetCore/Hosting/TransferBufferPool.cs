using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Dtr.AspNetCore.Hosting;

/// <summary>
/// Creates the <see cref="TransferBufferPool"/> that the server uses for its connections.
/// </summary>
internal sealed class TransferBufferPoolFactory(int blockBytes, int maxPooledBlocks) : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new TransferBufferPool(blockBytes, maxPooledBlocks);
}

/// <summary>
/// A memory pool of pinned blocks larger than the server's default of 4 KiB. Kestrel receives into one pool block per
/// socket read, so larger blocks mean fewer system calls and thread wake-ups for a large request body.
/// </summary>
/// <remarks>
/// Blocks are kept for reuse up to a bound, and any block above it is left to the garbage collector. A request for
/// more than one block gets an array of its own, which is not pooled.
/// </remarks>
internal sealed class TransferBufferPool : MemoryPool<byte>
{
    private readonly ConcurrentQueue<byte[]> _blocks = new();
    private readonly int _blockBytes;
    private readonly int _maxPooledBlocks;
    private int _pooledBlocks;

    public TransferBufferPool(int blockBytes, int maxPooledBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPooledBlocks);
        _blockBytes = blockBytes;
        _maxPooledBlocks = maxPooledBlocks;
    }

    /// <inheritdoc />
    public override int MaxBufferSize => _blockBytes;

    /// <summary>The number of blocks waiting in the pool for reuse.</summary>
    internal int PooledBlocks => Volatile.Read(ref _pooledBlocks);

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockBytes)
        {
            return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true));
        }

        if (_blocks.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _pooledBlocks);
            return new Block(this, block);
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(_blockBytes, pinned: true));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => _blocks.Clear();

    private void Return(byte[] block)
    {
        if (Interlocked.Increment(ref _pooledBlocks) <= _maxPooledBlocks)
        {
            _blocks.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _pooledBlocks);
        }
    }

    private sealed class Block(TransferBufferPool? pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block), "The pool block was already returned.");

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } returned && pool is not null)
            {
                pool.Return(returned);
            }
        }
    }
}
