namespace Dtr.Telemetry;

/// <summary>
/// A store decorator that adds spans. Code that tests a store for an optional capability, such as
/// <see cref="Storage.IBlobRedirectSource"/>, tests <see cref="Unwrap"/> of it.
/// </summary>
internal interface ITracingDecorator
{
    /// <summary>The decorated store.</summary>
    object Inner { get; }

    /// <summary>Returns the store that <paramref name="store"/> decorates, or <paramref name="store"/> itself.</summary>
    static object Unwrap(object store) => store is ITracingDecorator decorator ? decorator.Inner : store;
}
