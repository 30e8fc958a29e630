using BenchmarkDotNet.Running;
using Dtr.Benchmarks.GarbageCollection;

// Examples: dotnet run -c Release -- --list flat
//           dotnet run -c Release -- --filter '*DigestBenchmarks*'
//           dotnet run -c Release -- gc --backend sqlite
if (args is ["gc", .. var gcArguments])
{
    return await GcBenchmarkCommand.RunAsync(gcArguments);
}

BenchmarkSwitcher.FromAssembly(typeof(Dtr.Benchmarks.DigestBenchmarks).Assembly).Run(args);
return 0;
