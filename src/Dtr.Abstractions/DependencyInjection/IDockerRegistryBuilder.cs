namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The builder that <c>AddDockerRegistry()</c> returns. Storage and metadata providers add extension methods to it,
/// such as <c>AddFileSystemStorage()</c> and <c>AddSqliteMetadata()</c>.
/// </summary>
public interface IDockerRegistryBuilder
{
    /// <summary>The service collection the registry is added to.</summary>
    IServiceCollection Services { get; }
}
