//! GitHub Enterprise Server's refusal of a field its older schema lacks
//! (`Fault::GraphqlRefuses`): a static-validation error with `extensions.code:
//! undefinedField` at the first use of the field, no `data`.

use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use serde_json::{Value, json};

use super::exec;

/// GitHub Enterprise Server's answer to a document using `field`, which its schema lacks.
pub(super) fn refusal(
    document: &ExecutableDocument,
    operation: &Operation,
    field: &str,
) -> Option<Value> {
    let label = match &operation.name {
        Some(name) => format!("query {name}"),
        None => "query".to_owned(),
    };
    let roots = std::iter::once((label, &operation.selection_set)).chain(
        document
            .fragments
            .values()
            .map(|f| (format!("fragment {}", f.name), &f.selection_set)),
    );
    for (label, set) in roots {
        if let Some(error) = find(document, set, field, &mut vec![Value::from(label)]) {
            return Some(error);
        }
    }
    None
}

fn find(
    document: &ExecutableDocument,
    set: &SelectionSet,
    name: &str,
    path: &mut Vec<Value>,
) -> Option<Value> {
    for selection in &set.selections {
        let (label, inner) = match selection {
            Selection::Field(field) if field.name == name => {
                path.push(Value::from(field.response_key().as_str()));
                let (type_name, at) = (set.ty.as_str(), exec::locations(document, field));
                return Some(json!({
                    "path": path, "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": name},
                    "locations": at, "message": format!("Field '{name}' doesn't exist on type '{type_name}'")
                }));
            }
            Selection::Field(field) => (field.response_key().to_string(), &field.selection_set),
            Selection::InlineFragment(inline) => match &inline.type_condition {
                Some(t) => (format!("... on {t}"), &inline.selection_set),
                None => ("...".to_owned(), &inline.selection_set),
            },
            Selection::FragmentSpread(_) => continue,
        };
        path.push(Value::from(label));
        if let Some(found) = find(document, inner, name, path) {
            return Some(found);
        }
        path.pop();
    }
    None
}
