using Dtr.AspNetCore.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests;

public sealed class TransferBufferPoolTests
{
    private const int BlockBytes = 64 * 1024;

    [Fact]
    public void Rent_ReturnsWholeBlock()
    {
        using var pool = new TransferBufferPool(BlockBytes, maxPooledBlocks: 4);
        using var block = pool.Rent(100);

        Assert.Equal(BlockBytes, block.Memory.Length);
    }

    [Fact]
    public void Rent_ReusesReturnedBlock()
    {
        using var pool = new TransferBufferPool(BlockBytes, maxPooledBlocks: 4);
        var first = pool.Rent();
        var memory = first.Memory;
        first.Dispose();

        using var second = pool.Rent();

        Assert.True(second.Memory.Span.Overlaps(memory.Span));
    }

    [Fact]
    public void Rent_OversizedNotPooled()
    {
        using var pool = new TransferBufferPool(BlockBytes, maxPooledBlocks: 4);
        var large = pool.Rent(BlockBytes + 1);

        Assert.Equal(BlockBytes + 1, large.Memory.Length);
        large.Dispose();
        Assert.Equal(0, pool.PooledBlocks);
    }

    [Fact]
    public void Return_KeepsAtMostBound()
    {
        using var pool = new TransferBufferPool(BlockBytes, maxPooledBlocks: 2);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();

        blocks.ForEach(block => block.Dispose());

        Assert.Equal(2, pool.PooledBlocks);
    }

    [Fact]
    public void Dispose_Twice_ReturnsOnce()
    {
        using var pool = new TransferBufferPool(BlockBytes, maxPooledBlocks: 4);
        var block = pool.Rent();

        block.Dispose();
        block.Dispose();

        Assert.Equal(1, pool.PooledBlocks);
    }

    [Fact]
    public void Memory_AfterDispose_Throws()
    {
        using var pool = new TransferBufferPool(BlockBytes, maxPooledBlocks: 4);
        var block = pool.Rent();
        block.Dispose();

        Assert.Throws<ObjectDisposedException>(() => block.Memory);
    }

    [Theory]
    [InlineData(4095)]
    [InlineData(1024 * 1024 + 1)]
    public void AddTransferBuffers_BadSize_Throws(int blockBytes)
    {
        var services = new ServiceCollection();

        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddRegistryTransferBuffers(blockBytes));
    }

    [Fact]
    public void AddTransferBuffers_ReplacesPoolFactory()
    {
        var services = new ServiceCollection();
        services.AddRegistryTransferBuffers();
        using var provider = services.BuildServiceProvider();

        var factory = provider.GetRequiredService<IMemoryPoolFactory<byte>>();
        using var pool = factory.Create();

        Assert.Equal(TransferBufferServiceCollectionExtensions.DefaultBlockBytes, pool.MaxBufferSize);
    }

    [Fact]
    public async Task WebApplication_UsesTransferBuffers()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddRegistryTransferBuffers();
        await using var app = builder.Build();

        var factory = app.Services.GetRequiredService<IMemoryPoolFactory<byte>>();

        Assert.IsType<TransferBufferPoolFactory>(factory);
    }
}
