using Dtr.Gc;
using Dtr.Scanning.Service;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// Feeds the effective scanning and garbage collection options to the options system: each new options instance is a
/// copy of <see cref="RegistrySettings.Current"/>, and a settings change invalidates the cached one, so
/// <c>IOptionsMonitor</c> consumers in Dtr.Scanning and Dtr.Gc see the change without depending on this package.
/// </summary>
internal sealed class EffectiveOptionsSetup(RegistrySettings settings) :
    IConfigureOptions<ScanningOptions>,
    IConfigureOptions<GarbageCollectionOptions>,
    IOptionsChangeTokenSource<ScanningOptions>,
    IOptionsChangeTokenSource<GarbageCollectionOptions>
{
    /// <inheritdoc />
    public string? Name => Options.DefaultName;

    /// <inheritdoc />
    public void Configure(ScanningOptions options) =>
        EffectiveSettings.CopyScanningOptions(settings.Current.Options.Scanning, options);

    /// <inheritdoc />
    public void Configure(GarbageCollectionOptions options) =>
        EffectiveSettings.CopyGarbageCollectionOptions(settings.Current.Options.GarbageCollection, options);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => settings.GetChangeToken();
}
