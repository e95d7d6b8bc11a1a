//! GeoJSON geometries (RFC 7946), checked for shape and range, kept as JSON: the hub stores and
//! serves them, it does not compute with them beyond a point's position.

use serde_json::Value;

/// A GeoJSON geometry object: `type` and well-formed `coordinates` (longitude, latitude in
/// WGS 84, optional altitude), or `geometries` for a collection.
pub fn check_geometry(value: &Value) -> Result<(), String> {
    let obj = value.as_object().ok_or("must be a GeoJSON geometry object")?;
    let kind = obj.get("type").and_then(Value::as_str).ok_or("needs a `type`")?;
    if kind == "GeometryCollection" {
        let parts = obj.get("geometries").and_then(Value::as_array).ok_or("needs `geometries`")?;
        return parts.iter().try_for_each(check_geometry);
    }
    let depth = match kind {
        "Point" => 0,
        "MultiPoint" | "LineString" => 1,
        "MultiLineString" | "Polygon" => 2,
        "MultiPolygon" => 3,
        other => return Err(format!("`{other}` is not a GeoJSON geometry type")),
    };
    let coordinates = obj.get("coordinates").ok_or("needs `coordinates`")?;
    check_nested(coordinates, depth)?;
    if matches!(kind, "Polygon" | "MultiPolygon") {
        check_rings(coordinates, kind == "MultiPolygon")?;
    }
    Ok(())
}

/// A GeoJSON Point.
pub fn check_point(value: &Value) -> Result<(), String> {
    check_geometry(value)?;
    match value.get("type").and_then(Value::as_str) {
        Some("Point") => Ok(()),
        _ => Err("must be a GeoJSON Point".into()),
    }
}

/// The point's longitude and latitude.
pub fn point_position(value: &Value) -> Option<(f64, f64)> {
    let c = value.get("coordinates")?.as_array()?;
    Some((c.first()?.as_f64()?, c.get(1)?.as_f64()?))
}

/// A point that stands for a geometry on a map and in "near me": the centre of its bounding
/// box, as (longitude, latitude). None without positions.
pub fn representative_point(value: &Value) -> Option<(f64, f64)> {
    fn walk(v: &Value, b: &mut Option<(f64, f64, f64, f64)>) {
        match v {
            Value::Array(items) if items.first().is_some_and(Value::is_number) => {
                if let (Some(lon), Some(lat)) = (items[0].as_f64(), items.get(1).and_then(Value::as_f64)) {
                    let (w, s, e, n) = b.get_or_insert((lon, lat, lon, lat));
                    (*w, *s, *e, *n) = (w.min(lon), s.min(lat), e.max(lon), n.max(lat));
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, b)),
            _ => {}
        }
    }
    let mut bounds = None;
    match value.get("type").and_then(Value::as_str) {
        Some("GeometryCollection") => {
            for g in value.get("geometries").and_then(Value::as_array).into_iter().flatten() {
                walk(g.get("coordinates").unwrap_or(&Value::Null), &mut bounds);
            }
        }
        _ => walk(value.get("coordinates")?, &mut bounds),
    }
    bounds.map(|(w, s, e, n)| ((w + e) / 2.0, (s + n) / 2.0))
}

fn check_nested(value: &Value, depth: usize) -> Result<(), String> {
    let items = value.as_array().ok_or("coordinates must be arrays")?;
    if depth == 0 {
        return check_position(items);
    }
    if items.is_empty() && depth > 0 {
        return Err("coordinates must not be empty".into());
    }
    items.iter().try_for_each(|v| check_nested(v, depth - 1))
}

fn check_position(items: &[Value]) -> Result<(), String> {
    if !(2..=3).contains(&items.len()) || items.iter().any(|v| !v.is_number()) {
        return Err("a position is [longitude, latitude] or [longitude, latitude, altitude]".into());
    }
    let (lon, lat) = (items[0].as_f64().unwrap_or(f64::NAN), items[1].as_f64().unwrap_or(f64::NAN));
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err("longitude must lie in [-180, 180] and latitude in [-90, 90] (WGS 84, longitude first)".into());
    }
    Ok(())
}

/// Every linear ring closed and with at least four positions (RFC 7946 §3.1.6).
fn check_rings(coordinates: &Value, multi: bool) -> Result<(), String> {
    let polygons: Vec<&Value> =
        if multi { coordinates.as_array().into_iter().flatten().collect() } else { vec![coordinates] };
    for polygon in polygons {
        for ring in polygon.as_array().into_iter().flatten() {
            let ring = ring.as_array().map_or(&[][..], Vec::as_slice);
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err("a polygon ring needs at least four positions, the last equal to the first".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_geometry_is_represented_by_the_centre_of_its_bounds() {
        let polygon = serde_json::json!({"type": "Polygon", "coordinates": [[[7.0, 50.0], [8.0, 50.0], [8.0, 51.0], [7.0, 50.0]]]});
        assert_eq!(super::representative_point(&polygon), Some((7.5, 50.5)));
        let point = serde_json::json!({"type": "Point", "coordinates": [6.95, 50.94]});
        assert_eq!(super::representative_point(&point), Some((6.95, 50.94)));
        let collection = serde_json::json!({"type": "GeometryCollection", "geometries": [point, {"type": "Point", "coordinates": [7.05, 51.04]}]});
        let (lon, lat) = super::representative_point(&collection).unwrap();
        assert!((lon - 7.0).abs() < 1e-9 && (lat - 50.99).abs() < 1e-9);
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_rfc_7946_shapes() {
        assert!(check_point(&json!({"type": "Point", "coordinates": [7.1, 50.7]})).is_ok());
        let ring = json!([[7.0, 50.0], [7.1, 50.0], [7.1, 50.1], [7.0, 50.0]]);
        assert!(check_geometry(&json!({"type": "Polygon", "coordinates": [ring]})).is_ok());
        assert!(
            check_geometry(
                &json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]})
            )
            .is_ok()
        );
    }

    #[test]
    fn rejects_what_a_map_would_misplace() {
        // Latitude first, as people often write it, puts Bonn into the sea off Somalia; 95 is no latitude.
        assert!(check_point(&json!({"type": "Point", "coordinates": [50.7, 95.0]})).is_err());
        assert!(check_point(&json!({"type": "Point", "coordinates": ["7", "50"]})).is_err());
        assert!(check_point(&json!({"type": "LineString", "coordinates": [[1, 2], [3, 4]]})).is_err());
        let open = json!([[7.0, 50.0], [7.1, 50.0], [7.1, 50.1], [7.0, 50.1]]);
        assert!(check_geometry(&json!({"type": "Polygon", "coordinates": [open]})).is_err());
        assert!(check_geometry(&json!({"type": "Circle", "coordinates": [1, 2]})).is_err());
        assert_eq!(point_position(&json!({"type": "Point", "coordinates": [7.1, 50.7]})), Some((7.1, 50.7)));
    }
}
