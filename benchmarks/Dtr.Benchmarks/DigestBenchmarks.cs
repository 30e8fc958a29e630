using BenchmarkDotNet.Attributes;
using Dtr.Digests;

namespace Dtr.Benchmarks;

/// <summary>
/// Measures digest computation over buffers of typical blob sizes (a small config, a medium layer chunk, a
/// large layer) and digest string parsing, which runs on every request that names a blob or manifest.
/// </summary>
[MemoryDiagnoser]
public class DigestBenchmarks
{
    private const string Sha256Text = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
    private const string Sha512Text =
        "sha512:2c74fd17edafd80e8447b0d46741ee243b7eb74dd2149a0ab1b9246fb30382f27e853d8585719e0e67cbda0daa8f51671064615d645ae27acb15bfb1447f459b";

    /// <summary>Returns pseudo-random buffers of 4 KiB, 1 MiB and 64 MiB.</summary>
    public static IEnumerable<ContentBuffer> Buffers()
    {
        yield return new ContentBuffer(4 * 1024);
        yield return new ContentBuffer(1024 * 1024);
        yield return new ContentBuffer(64 * 1024 * 1024);
    }

    [Benchmark]
    [ArgumentsSource(nameof(Buffers))]
    public Digest ComputeSha256(ContentBuffer buffer) => Digest.Compute(buffer.Bytes, DigestAlgorithm.Sha256);

    [Benchmark]
    [ArgumentsSource(nameof(Buffers))]
    public Digest ComputeSha512(ContentBuffer buffer) => Digest.Compute(buffer.Bytes, DigestAlgorithm.Sha512);

    [Benchmark]
    public Digest ParseSha256() => Digest.Parse(Sha256Text);

    [Benchmark]
    public Digest ParseSha512() => Digest.Parse(Sha512Text);

    /// <summary>A benchmark argument: pseudo-random bytes, shown by size in the results table.</summary>
    public sealed class ContentBuffer
    {
        public ContentBuffer(int size)
        {
            Bytes = new byte[size];
            new Random(size).NextBytes(Bytes);
        }

        public byte[] Bytes { get; }

        public override string ToString() => Bytes.Length >= 1024 * 1024 ? $"{Bytes.Length / (1024 * 1024)} MiB" : $"{Bytes.Length / 1024} KiB";
    }
}
