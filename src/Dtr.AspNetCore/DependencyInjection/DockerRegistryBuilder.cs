using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.DependencyInjection;

/// <summary>The builder returned by <c>AddDockerRegistry()</c>.</summary>
internal sealed class DockerRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
{
    public IServiceCollection Services { get; } = services;
}
