namespace Dtr.Scanning.Versioning;

/// <summary>
/// Shared argument and error handling: subclasses parse a version into <typeparamref name="TParsed"/> and compare parsed values.
/// </summary>
public abstract class VersionComparerBase<TParsed> : IVersionComparer
{
    /// <inheritdoc />
    public abstract PackageEcosystem Ecosystem { get; }

    /// <inheritdoc />
    public int Compare(string left, string right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);

        var parsedLeft = ParseOrThrow(left);
        var parsedRight = ParseOrThrow(right);
        return Math.Sign(CompareParsed(parsedLeft, parsedRight));
    }

    /// <inheritdoc />
    public bool TryValidate(string version, out string? error)
    {
        ArgumentNullException.ThrowIfNull(version);
        return TryParse(version, out _, out error);
    }

    /// <summary>
    /// Parses <paramref name="version"/>, or sets <paramref name="error"/> to the reason it is invalid.
    /// </summary>
    protected abstract bool TryParse(string version, out TParsed parsed, out string? error);

    /// <summary>
    /// Compares two parsed versions, returning a negative, zero or positive number.
    /// </summary>
    protected abstract int CompareParsed(TParsed left, TParsed right);

    private TParsed ParseOrThrow(string version)
    {
        if (TryParse(version, out var parsed, out var error))
        {
            return parsed;
        }

        throw new FormatException($"'{version}' is not a valid {Ecosystem} version: {error}");
    }
}
