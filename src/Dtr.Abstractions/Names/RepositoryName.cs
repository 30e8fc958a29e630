using System.Diagnostics.CodeAnalysis;

namespace Dtr.Names;

/// <summary>
/// A repository name as the OCI distribution specification defines it: lowercase path components joined by
/// <c>/</c>, each component <c>[a-z0-9]+</c> runs joined by one separator (<c>.</c>, <c>_</c>, <c>__</c> or one
/// or more <c>-</c>), at most <see cref="MaxLength"/> characters in all.
/// </summary>
public readonly struct RepositoryName : IEquatable<RepositoryName>, IComparable<RepositoryName>
{
    /// <summary>The maximum length of a repository name, in characters.</summary>
    /// <remarks>The OCI distribution specification lets registries cap names; 255 is the cap most clients expect.</remarks>
    public const int MaxLength = 255;

    private readonly string? _value;

    private RepositoryName(string value) => _value = value;

    /// <summary>The name as text.</summary>
    public string Value => _value ?? throw new InvalidOperationException("The repository name is the default value and was never set.");

    /// <summary>The first path component, which is the namespace (user or organization) that owns the repository.</summary>
    public string Namespace
    {
        get
        {
            var slash = Value.IndexOf('/', StringComparison.Ordinal);
            return slash < 0 ? Value : Value[..slash];
        }
    }

    /// <summary>Parses a repository name, or throws <see cref="FormatException"/> saying why it is invalid.</summary>
    public static RepositoryName Parse(string value)
    {
        if (!TryParse(value, out var name, out var error))
        {
            throw new FormatException(error);
        }

        return name;
    }

    /// <summary>Parses a repository name and returns whether it is valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out RepositoryName name) => TryParse(value, out name, out _);

    /// <summary>Parses a repository name; on failure <paramref name="error"/> describes what is wrong with it.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out RepositoryName name, [NotNullWhen(false)] out string? error)
    {
        name = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "The repository name is empty.";
            return false;
        }

        if (value.Length > MaxLength)
        {
            error = $"The repository name is {value.Length} characters long; the maximum is {MaxLength}.";
            return false;
        }

        foreach (var component in value.Split('/'))
        {
            if (!IsValidComponent(component))
            {
                error = $"The repository name '{value}' is invalid: each '/'-separated component must be lowercase letters and digits, optionally joined by '.', '_', '__' or '-', and must start and end with a letter or digit.";
                return false;
            }
        }

        name = new RepositoryName(value);
        error = null;
        return true;
    }

    /// <summary>
    /// Checks one path component against <c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*</c>.
    /// </summary>
    public static bool IsValidComponent(ReadOnlySpan<char> component)
    {
        if (component.IsEmpty || !IsAlphanumeric(component[0]) || !IsAlphanumeric(component[^1]))
        {
            return false;
        }

        var i = 0;
        while (i < component.Length)
        {
            if (IsAlphanumeric(component[i]))
            {
                i++;
                continue;
            }

            // A separator run: '.', '_', '__', or any number of '-'. It is always followed by an alphanumeric,
            // because the component ends with one.
            var start = i;
            var separator = component[i];
            while (i < component.Length && !IsAlphanumeric(component[i]))
            {
                if (component[i] != separator)
                {
                    return false;
                }

                i++;
            }

            var runLength = i - start;
            var valid = separator switch
            {
                '.' => runLength == 1,
                '_' => runLength <= 2,
                '-' => true,
                _ => false,
            };
            if (!valid)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    /// <inheritdoc />
    public bool Equals(RepositoryName other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RepositoryName other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <inheritdoc />
    public int CompareTo(RepositoryName other) => string.CompareOrdinal(_value, other._value);

    /// <inheritdoc />
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Compares two names for equality.</summary>
    public static bool operator ==(RepositoryName left, RepositoryName right) => left.Equals(right);

    /// <summary>Compares two names for inequality.</summary>
    public static bool operator !=(RepositoryName left, RepositoryName right) => !left.Equals(right);

    /// <summary>Orders names by ordinal comparison.</summary>
    public static bool operator <(RepositoryName left, RepositoryName right) => left.CompareTo(right) < 0;

    /// <summary>Orders names by ordinal comparison.</summary>
    public static bool operator >(RepositoryName left, RepositoryName right) => left.CompareTo(right) > 0;

    /// <summary>Orders names by ordinal comparison.</summary>
    public static bool operator <=(RepositoryName left, RepositoryName right) => left.CompareTo(right) <= 0;

    /// <summary>Orders names by ordinal comparison.</summary>
    public static bool operator >=(RepositoryName left, RepositoryName right) => left.CompareTo(right) >= 0;
}
