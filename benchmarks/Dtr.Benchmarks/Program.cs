using BenchmarkDotNet.Running;

// Examples: dotnet run -c Release -- --list flat
//           dotnet run -c Release -- --filter '*DigestBenchmarks*'
BenchmarkSwitcher.FromAssembly(typeof(Dtr.Benchmarks.DigestBenchmarks).Assembly).Run(args);
