namespace Dtr.Scanning.Versioning;

/// <summary>
/// Comparer for the version strings of one package ecosystem.
/// </summary>
public interface IVersionComparer
{
    /// <summary>Ecosystem whose rules this comparer applies.</summary>
    PackageEcosystem Ecosystem { get; }

    /// <summary>
    /// Compares two versions by the ecosystem's ordering rules.
    /// </summary>
    /// <returns>A negative number if <paramref name="left"/> is older, zero if both are equal, a positive number if it is newer.</returns>
    /// <exception cref="ArgumentNullException">Either version is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">Either version is not valid in this ecosystem. The message names the value.</exception>
    int Compare(string left, string right);

    /// <summary>
    /// Checks that a version is valid in this ecosystem without raising an exception.
    /// </summary>
    /// <param name="version">Version string to check.</param>
    /// <param name="error">When this method returns <see langword="false"/>, the reason the version is invalid; otherwise <see langword="null"/>.</param>
    /// <returns><see langword="true"/> if <see cref="Compare"/> accepts the version.</returns>
    bool TryValidate(string version, out string? error);
}
