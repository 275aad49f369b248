"""What secures a customer's credit: deposits (保证金), guarantees (担保), the qualification review (资质审核) and
the security required against held, with their policy sections, tables, pages, API and commands."""
